package flow_test

import (
	"fmt"
	"os"

	"github.com/gogather/gather/flow"
)

func ExampleParse() {
	f, err := flow.Parse("classic.yaml", []byte(`
steps:
  weather:
    http: {url: "https://api.example.com/weather"}
  user:
    http: {url: "https://api.example.com/users/${{ .input.id }}"}
  save:
    http:
      method: POST
      url: https://api.example.com/saved
      json: {name: "${{ .steps.user.body.name }}"}
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(f.Order)
	fmt.Println(f.Steps["save"].Needs)
	// Output:
	// [user save weather]
	// [user]
}

func ExampleParse_errors() {
	_, err := flow.Parse("bad.yaml", []byte(`steps:
  a:
    neeeds: [b]
    http: {url: "https://x/${{ .id | }}"}
  b:
    needs: [a]
    exec: {command: [ls], timeout: 10}
`))
	fmt.Println(err)
	// Output:
	// bad.yaml:3:5: unknown key "neeeds" in step "a" (did you mean "needs"?)
	// bad.yaml:4:38: bad expression ${{ .id | }}: jq: unexpected EOF
	// bad.yaml:7:36: "timeout" of step "b": invalid duration "10" (write e.g. 10s, 1m30s, 500ms)
}

func ExampleFlow_Mermaid() {
	f, err := flow.Parse("f.yaml", []byte(`steps:
  list: {http: {url: "https://x/items"}}
  each:
    for_each: ${{ .steps.list.body }}
    exec: {command: [echo, "${{ .item }}"]}
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	f.Mermaid(os.Stdout)
	// Output:
	// flowchart TD
	//     s_each["each<br/>exec"]
	//     s_list["list<br/>http GET"]
	//     s_list --> s_each
}
