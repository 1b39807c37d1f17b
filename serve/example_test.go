package serve_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/gogather/gather/fetch"
	"github.com/gogather/gather/flow"
	"github.com/gogather/gather/serve"
)

// One flow mounted in a Go program's own server: GET /users/{id} fans out
// to two upstream calls and answers their combination. The client's
// AllowHosts keep every call on the upstream.
func ExampleNewHandler() {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case strings.HasPrefix(r.URL.Path, "/users/"):
			fmt.Fprintf(w, `{"name": "Ada", "id": %q}`, strings.TrimPrefix(r.URL.Path, "/users/"))
		case r.URL.Path == "/orders":
			fmt.Fprint(w, `{"count": 3}`)
		}
	}))
	defer api.Close()

	f, err := flow.Parse("user.yaml", []byte(strings.ReplaceAll(`
steps:
  user: {http: {url: "API/users/${{ .input.path.id | @uri }}"}}
  orders: {http: {url: "API/orders?user=${{ .input.path.id | @uri }}"}}
output:
  name: "${{ .steps.user.body.name }}"
  orders: "${{ .steps.orders.body.count }}"
`, "API", api.URL)))
	if err != nil {
		fmt.Println(err)
		return
	}
	client, _ := fetch.New(fetch.Config{AllowHosts: []string{api.URL}})
	defer client.Close()
	engine, _ := flow.NewEngine(f, flow.Config{Client: client})
	h, _ := serve.NewHandler(engine, serve.HandlerConfig{Params: []string{"id"}})

	mux := http.NewServeMux()
	mux.Handle("GET /users/{id}", h)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/users/7")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Print(resp.StatusCode, " ", string(body))
	// Output:
	// 200 {"name":"Ada","orders":3}
}
