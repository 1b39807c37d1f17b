package fetch_test

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"

	"github.com/gogather/gather"
	"github.com/gogather/gather/fetch"
)

// exampleServer is a small API on 127.0.0.1 for the examples:
// /hello answers text, /users/N a JSON user, /missing a 404.
func exampleServer() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/hello":
			fmt.Fprintln(w, "hello, world")
		case strings.HasPrefix(r.URL.Path, "/users/"):
			id := strings.TrimPrefix(r.URL.Path, "/users/")
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"id": %q, "name": "user %s"}`, id, id)
		default:
			http.Error(w, `{"error": "no such thing"}`, http.StatusNotFound)
		}
	}))
}

// A GET, its body as bytes and as text.
func ExampleClient_Get() {
	srv := exampleServer()
	defer srv.Close()
	c, err := fetch.New(fetch.Config{})
	if err != nil {
		panic(err)
	}
	defer c.Close()

	resp, err := c.Get(context.Background(), srv.URL+"/hello")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(resp.Status, len(resp.Body), "bytes")
	fmt.Print(resp.Text())
	// Output:
	// 200 13 bytes
	// hello, world
}

// JSON into a struct, in one call.
func ExampleGetJSON() {
	srv := exampleServer()
	defer srv.Close()
	c, err := fetch.New(fetch.Config{})
	if err != nil {
		panic(err)
	}
	defer c.Close()

	type User struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	u, err := fetch.GetJSON[User](context.Background(), c, srv.URL+"/users/7")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%+v\n", u)
	// Output:
	// {ID:7 Name:user 7}
}

// A status other than 2xx is a *StatusError; any other failure is an
// *Error with its kind.
func ExampleStatusError() {
	srv := exampleServer()
	defer srv.Close()
	c, err := fetch.New(fetch.Config{Retries: -1})
	if err != nil {
		panic(err)
	}
	defer c.Close()
	ctx := context.Background()

	_, err = c.Get(ctx, srv.URL+"/missing")
	var se *fetch.StatusError
	if errors.As(err, &se) {
		fmt.Println("status", se.Status, strings.TrimSpace(string(se.Body)))
	}

	_, err = c.Get(ctx, "http://127.0.0.1:1/") // nothing listens on port 1
	var fe *fetch.Error
	if errors.As(err, &fe) {
		fmt.Println("kind", fe.Kind)
	}
	// Output:
	// status 404 {"error": "no such thing"}
	// kind connect
}

// Many URLs through gather.Map, at most 8 at a time, results in input
// order. The client's own limits (Concurrency, PerHost, rates) hold as
// well, whatever Map's limit.
func Example_gatherMap() {
	srv := exampleServer()
	defer srv.Close()
	c, err := fetch.New(fetch.Config{Concurrency: 8, PerHost: 4})
	if err != nil {
		panic(err)
	}
	defer c.Close()

	var urls []string
	for i := range 5 {
		urls = append(urls, fmt.Sprintf("%s/users/%d", srv.URL, i))
	}
	get := func(ctx context.Context, url string) (string, error) {
		resp, err := c.Get(ctx, url)
		if err != nil {
			return "", err
		}
		return resp.Text(), nil
	}
	for r := range gather.Map(context.Background(), slices.Values(urls), 8, get, gather.Ordered(16)) {
		fmt.Println(r.Index, r.Value, r.Err)
	}
	// Output:
	// 0 {"id": "0", "name": "user 0"} <nil>
	// 1 {"id": "1", "name": "user 1"} <nil>
	// 2 {"id": "2", "name": "user 2"} <nil>
	// 3 {"id": "3", "name": "user 3"} <nil>
	// 4 {"id": "4", "name": "user 4"} <nil>
}

// Two requests started at once in a scope, awaited together, as
// asyncio.gather does.
func Example_gatherGo() {
	srv := exampleServer()
	defer srv.Close()
	c, err := fetch.New(fetch.Config{})
	if err != nil {
		panic(err)
	}
	defer c.Close()

	type User struct {
		Name string `json:"name"`
	}
	s := gather.NewScope(context.Background())
	hello := gather.Go(s, func(ctx context.Context) (*fetch.Response, error) { return c.Get(ctx, srv.URL+"/hello") })
	user := gather.Go(s, func(ctx context.Context) (User, error) { return fetch.GetJSON[User](ctx, c, srv.URL+"/users/1") })
	if err := s.Wait(); err != nil {
		fmt.Println(err)
		return
	}
	h, _ := hello.Result()
	u, _ := user.Result()
	fmt.Print(h.Text())
	fmt.Println(u.Name)
	// Output:
	// hello, world
	// user 1
}

// The bulk engine: Run streams one Record per request, failures
// included, as data.
func ExampleClient_Run() {
	srv := exampleServer()
	defer srv.Close()
	c, err := fetch.New(fetch.Config{Concurrency: 4, Ordered: true, Retries: -1})
	if err != nil {
		panic(err)
	}
	defer c.Close()

	paths := []string{"/hello", "/users/3", "/missing"}
	reqs := func(yield func(fetch.Request) bool) {
		for i, p := range paths {
			if !yield(fetch.Request{Line: i + 1, URL: srv.URL + p}) {
				return
			}
		}
	}
	for rec := range c.Run(context.Background(), iter.Seq[fetch.Request](reqs)) {
		kind := fetch.Kind("ok")
		if rec.Error != nil {
			kind = rec.Error.Kind
		}
		fmt.Println(rec.Line, rec.Status, kind, rec.Bytes)
	}
	// Output:
	// 1 200 ok 13
	// 2 200 ok 29
	// 3 404 http_status 27
}
