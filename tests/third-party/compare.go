// Command compare reads the results of one test suite run twice, natively (amd64) and
// under archway (arm64), and the list of known differences; it prints every test that
// passed natively but not under archway, and exits 1 if any such test is not on the
// list, or if a listed test passed under archway after all (the list must stay true).
//
//	go run compare.go NATIVE ARCHWAY DIFFERENCES
//
// NATIVE and ARCHWAY are `go test -json` streams or JUnit XML files (what Python's
// `-m test --junit-xml` writes; a test case's package is the first two parts of its
// dotted name, `test.test_os`, and the rest is its name).
//
// DIFFERENCES: one `PACKAGE TEST [sometimes] REASON...` per line; `#` starts a
// comment. `sometimes` marks a test whose outcome under archway depends on timing: it
// may pass or not, and either is accepted.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os"
	"sort"
	"strings"
)

type event struct {
	Action  string
	Package string
	Test    string
}

// readOrExit is the contents of path; a file that cannot be read ends the command (2).
func readOrExit(path string) []byte {
	data, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	return data
}

// results maps "package test" to the test's outcome: pass, fail or skip.
func results(path string) map[string]string {
	data := readOrExit(path)
	if bytes.HasPrefix(bytes.TrimSpace(data), []byte("<")) {
		return junitResults(path, data)
	}
	out := map[string]string{}
	scanner := bufio.NewScanner(bytes.NewReader(data))
	scanner.Buffer(make([]byte, 1<<20), 16<<20)
	for scanner.Scan() {
		var e event
		if json.Unmarshal(scanner.Bytes(), &e) != nil || e.Test == "" {
			continue
		}
		switch e.Action {
		case "pass", "fail", "skip":
			out[e.Package+" "+e.Test] = e.Action
		}
	}
	return out
}

// testCase is a JUnit test case: passed unless it holds a skipped, failure or error.
type testCase struct {
	Name    string    `xml:"name,attr"`
	Skipped *struct{} `xml:"skipped"`
	Failure *struct{} `xml:"failure"`
	Error   *struct{} `xml:"error"`
}

func junitResults(path string, data []byte) map[string]string {
	var suites struct {
		Cases []testCase `xml:"testsuite>testcase"`
	}
	if err := xml.Unmarshal(data, &suites); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", path, err)
		os.Exit(2)
	}
	out := map[string]string{}
	for _, c := range suites.Cases {
		parts := strings.SplitN(c.Name, ".", 3)
		name := c.Name
		if len(parts) == 3 {
			name = parts[0] + "." + parts[1] + " " + parts[2]
		}
		switch {
		case c.Failure != nil || c.Error != nil:
			out[name] = "fail"
		case c.Skipped != nil:
			out[name] = "skip"
		default:
			out[name] = "pass"
		}
	}
	return out
}

// difference is why a test is listed, and whether it may pass as well.
type difference struct {
	reason    string
	sometimes bool
}

// differences maps "package test" to why it is listed.
func differences(path string) map[string]difference {
	data := readOrExit(path)
	out := map[string]difference{}
	for _, line := range strings.Split(string(data), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		if len(fields) < 3 {
			fmt.Fprintf(os.Stderr, "%s: a line needs PACKAGE TEST REASON: %q\n", path, line)
			os.Exit(2)
		}
		reason, sometimes := fields[2:], fields[2] == "sometimes"
		if sometimes {
			reason = fields[3:]
		}
		out[fields[0]+" "+fields[1]] = difference{strings.Join(reason, " "), sometimes}
	}
	return out
}

// outcome is what happened to test `name` in `run`. A Go subtest (`Parent/sub`) whose own
// result line is missing takes its parent's when the parent passed: a parent passes only
// if every subtest did, and test2json loses a subtest's line now and then when the test
// logs output that holds "--- PASS" lines of its own (os/signal's TestNohup does).
func outcome(run map[string]string, name string) string {
	if got, ok := run[name]; ok {
		return got
	}
	if slash := strings.LastIndex(name, "/"); slash > strings.Index(name, " ") {
		if outcome(run, name[:slash]) == "pass" {
			return "pass"
		}
	}
	return "not run"
}

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: compare NATIVE ARCHWAY DIFFERENCES")
		os.Exit(2)
	}
	native, archway, listed := results(os.Args[1]), results(os.Args[2]), differences(os.Args[3])
	var names []string
	for name := range native {
		names = append(names, name)
	}
	sort.Strings(names)
	passed, explained, failed := 0, 0, 0
	for _, name := range names {
		if native[name] != "pass" {
			continue
		}
		got := outcome(archway, name)
		switch known, ok := listed[name]; {
		case got == "pass" && ok && known.sometimes:
			passed++
		case got == "pass" && ok:
			fmt.Printf("LISTED BUT PASSES  %s (remove it from the list)\n", name)
			failed++
		case got == "pass":
			passed++
		case ok:
			fmt.Printf("known difference   %s: %s under archway: %s\n", name, got, known.reason)
			explained++
		default:
			fmt.Printf("FAILS UNDER ARCHWAY %s: %s\n", name, got)
			failed++
		}
	}
	for name := range listed {
		if _, ok := native[name]; !ok {
			fmt.Printf("LISTED BUT UNKNOWN %s (not run natively)\n", name)
			failed++
		}
	}
	fmt.Printf("%d tests passed natively: %d pass under archway, %d known differences, %d unexplained\n",
		passed+explained+failed, passed, explained, failed)
	if failed > 0 {
		os.Exit(1)
	}
}
