package flow_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/gogather/gather/fetch"
	"github.com/gogather/gather/flow"
)

// A flow run once from Go: a GET whose JSON answer is POSTed on, beside
// an unrelated GET, and a process fed the result.
func ExampleEngine_Run() {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/users/7":
			fmt.Fprint(w, `{"id": 7, "name": "Ada"}`)
		case "/weather":
			fmt.Fprint(w, `{"sky": "clear"}`)
		case "/greetings":
			io.Copy(w, r.Body) // echoes what was posted
		}
	}))
	defer api.Close()

	f, err := flow.Parse("greet.yaml", []byte(strings.ReplaceAll(`
steps:
  user:
    http: {url: "API/users/${{ .input.id }}"}
  weather:
    http: {url: API/weather}
  greet:
    http:
      method: POST
      url: API/greetings
      json: {to: "${{ .steps.user.body.name }}", id: "${{ .steps.user.body.id }}"}
  shout:
    exec:
      command: [tr, a-z, A-Z]
      stdin: "hello ${{ .steps.greet.body.to }}, the sky is ${{ .steps.weather.body.sky }}"
output:
  posted: "${{ .steps.greet.body }}"
  said: "${{ .steps.shout.stdout }}"
`, "API", api.URL)))
	if err != nil {
		fmt.Println(err)
		return
	}
	client, err := fetch.New(fetch.Config{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer client.Close()
	e, err := flow.NewEngine(f, flow.Config{Client: client})
	if err != nil {
		fmt.Println(err)
		return
	}
	res := e.Run(context.Background(), map[string]any{"id": 7})
	if res.Err != nil {
		fmt.Println(res.Err)
		return
	}
	fmt.Println(res.Output)
	for _, s := range res.Steps {
		fmt.Println(s.Name, s.Status)
	}
	// Output:
	// map[posted:map[id:7 to:Ada] said:HELLO ADA, THE SKY IS CLEAR]
	// user ok
	// greet ok
	// weather ok
	// shout ok
}
