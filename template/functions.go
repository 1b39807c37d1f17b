package template

import "github.com/itchyny/gojq"

// functions are the functions gather adds to jq, given to every
// expression's compilation.
var functions []gojq.CompilerOption
