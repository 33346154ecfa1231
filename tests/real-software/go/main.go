// Command goprobe exercises what the Go runtime needs from an arm64 Linux: goroutines
// and channels, a CPU-bound loop that only asynchronous preemption (SIGURG) can
// interrupt, runtime.GC, os/exec of a child (itself), and an HTTP server and client on
// 127.0.0.1. It prints one line per check and "goprobe: ok" at the end; any failure
// exits non-zero. `goprobe CHECK...` runs only the named checks (channels, preemption,
// gc, exec, http). Built by scripts/real-software.sh with GOOS=linux GOARCH=arm64.
package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "goprobe: FAIL: "+format+"\n", args...)
	os.Exit(1)
}

// goroutines and channels: a pipeline of workers summing squares.
func channels() {
	jobs := make(chan int, 16)
	results := make(chan int, 16)
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				results <- j * j
			}
		}()
	}
	go func() {
		for i := 1; i <= 1000; i++ {
			jobs <- i
		}
		close(jobs)
	}()
	go func() { wg.Wait(); close(results) }()
	sum := 0
	for r := range results {
		sum += r
	}
	if sum != 333833500 {
		fail("channels: sum %d", sum)
	}
	fmt.Println("channels: sum of squares 333833500")
}

//go:noinline
func spin(stop *int32) uint64 {
	var x uint64 = 1
	// No calls and no allocation (the atomic load is an intrinsic): only asynchronous
	// preemption can stop this loop.
	for atomic.LoadInt32(stop) == 0 {
		x = x*6364136223846793005 + 1442695040888963407
	}
	return x
}

// A CPU-bound goroutine on a single P: the main goroutine only runs again if the
// runtime preempts the spinning one with a signal.
func preemption() {
	old := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(old)
	var stop int32
	done := make(chan uint64)
	go func() { done <- spin(&stop) }()
	time.Sleep(10 * time.Millisecond) // the spinner now owns the only P
	start := time.Now()
	for time.Since(start) < 50*time.Millisecond {
		runtime.Gosched()
	}
	atomic.StoreInt32(&stop, 1)
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		fail("preemption: spinner never stopped")
	}
	fmt.Println("preemption: main goroutine ran beside a spinning one")
}

func gc() {
	var keep [][]byte
	for i := 0; i < 2000; i++ {
		b := make([]byte, 4096)
		b[0] = byte(i)
		if i%10 == 0 {
			keep = append(keep, b)
		}
	}
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if after.NumGC <= before.NumGC {
		fail("gc: NumGC %d -> %d", before.NumGC, after.NumGC)
	}
	for i, b := range keep {
		if b[0] != byte(i*10) {
			fail("gc: kept buffer %d corrupted", i)
		}
	}
	fmt.Println("gc: collected, kept buffers intact")
}

func child() {
	self, err := os.Executable()
	if err != nil {
		fail("exec: os.Executable: %v", err)
	}
	out, err := exec.Command(self, "child", "hello").Output()
	if err != nil {
		fail("exec: %v", err)
	}
	if got := strings.TrimSpace(string(out)); got != "child says hello on arm64" {
		fail("exec: child printed %q", got)
	}
	fmt.Println("exec: child says hello on arm64")
}

func httpRoundTrip() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fail("http: listen: %v", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/square", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s squared", r.URL.Query().Get("n"))
	})
	server := &http.Server{Handler: mux}
	go server.Serve(ln)
	defer server.Close()
	client := &http.Client{Timeout: 20 * time.Second}
	for i := 0; i < 5; i++ {
		resp, err := client.Get(fmt.Sprintf("http://%s/square?n=%d", ln.Addr(), i))
		if err != nil {
			fail("http: get: %v", err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || string(body) != fmt.Sprintf("%d squared", i) {
			fail("http: body %q, %v", body, err)
		}
	}
	fmt.Println("http: 5 requests on 127.0.0.1")
}

func main() {
	if len(os.Args) == 3 && os.Args[1] == "child" {
		fmt.Printf("child says %s on %s\n", os.Args[2], runtime.GOARCH)
		return
	}
	checks := []struct {
		name string
		run  func()
	}{
		{"channels", channels}, {"preemption", preemption}, {"gc", gc}, {"exec", child}, {"http", httpRoundTrip},
	}
	// With arguments, only the named checks run (to narrow a failure down).
	only := map[string]bool{}
	for _, name := range os.Args[1:] {
		only[name] = true
	}
	for _, c := range checks {
		if len(only) == 0 || only[c.name] {
			c.run()
		}
	}
	fmt.Println("goprobe: ok")
}
