package template

import "github.com/itchyny/gojq"

// functions are the functions gather adds to jq, given to every
// expression's compilation (see the package's Functions section):
//
//   - xpath("EXPR"): the texts of the nodes of the XML text input that the
//     XPath 1.0 expression EXPR selects, a list of strings;
//   - css("SELECTOR"): the text content of the elements of the HTML text
//     input that the CSS selector matches, a list of strings.
var functions = []gojq.CompilerOption{
	gojq.WithFunction("xpath", 1, 1, xpathFunc),
	gojq.WithFunction("css", 1, 1, cssFunc),
}
