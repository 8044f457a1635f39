// SPDX-License-Identifier: Apache-2.0
// cri-client: a small CRI client for cella's tests (crictl is not packaged
// in Debian 12). It speaks k8s.io/cri-api runtime v1 over containerd's CRI
// socket; its command line follows crictl's where the two overlap:
//
//	cri-client [-r ENDPOINT] [--timeout SECONDS] COMMAND [FLAGS] ARGS
//
// Inputs are crictl's JSON files (pod-config.json, container-config.json,
// snake_case field names); one-letter boolean flags combine (-it).
// Structured output (inspect, inspectp, info, stats) is protobuf JSON
// (camelCase, enums by name), as crictl prints it.
//
// Exit status: 0 on success; for `exec` the remote process's exit code; 125
// when the client itself fails (bad usage, RPC error), with one line on
// stderr. tests/helpers/cri/build.sh builds it (GOPATH mode, Debian's Go).
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"sort"
	"strings"
	"time"

	"google.golang.org/grpc"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// exitClientError is the status of a failure of the client itself, kept
// apart from the exit codes `exec` passes through.
const exitClientError = 125

// client carries the connection and the per-RPC timeout to every command.
type client struct {
	rt      runtimeapi.RuntimeServiceClient
	img     runtimeapi.ImageServiceClient
	timeout time.Duration
}

func (c *client) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), c.timeout)
}

// command is one verb: its usage line and what it runs with its arguments.
type command struct {
	usage string
	run   func(c *client, args []string) error
}

var commands = map[string]command{
	"version":  {"version", cmdVersion},
	"info":     {"info", cmdInfo},
	"runp":     {"runp [--runtime HANDLER] POD-CONFIG.json", cmdRunp},
	"stopp":    {"stopp POD-ID...", cmdStopp},
	"rmp":      {"rmp POD-ID...", cmdRmp},
	"pods":     {"pods [-q] [--name NAME] [--state ready|notready]", cmdPods},
	"inspectp": {"inspectp POD-ID", cmdInspectp},
	"create":   {"create POD-ID CONTAINER-CONFIG.json POD-CONFIG.json", cmdCreate},
	"start":    {"start CONTAINER-ID...", cmdStart},
	"stop":     {"stop [--timeout SECONDS] CONTAINER-ID...", cmdStop},
	"rm":       {"rm CONTAINER-ID...", cmdRm},
	"ps":       {"ps [-a] [-q] [--pod POD-ID] [--name NAME] [--state STATE]", cmdPs},
	"inspect":  {"inspect CONTAINER-ID", cmdInspect},
	"stats":    {"stats CONTAINER-ID", cmdStats},
	"update":   {"update [--memory BYTES] [--cpu-shares N] [--cpu-quota N] [--cpu-period N] [--cpuset-cpus LIST] [--cpuset-mems LIST] [--unified KEY=VALUE]... CONTAINER-ID", cmdUpdate},
	"exec":     {"exec [-s|--sync] [-t] [-i] [--size ROWSxCOLS] [--timeout SECONDS] CONTAINER-ID CMD [ARG...]", cmdExec},
	"attach":   {"attach [-i] [-t] CONTAINER-ID", cmdAttach},
	"logs":     {"logs [--stream stdout|stderr] [--raw] CONTAINER-ID", cmdLogs},
	"images":   {"images [-q]", cmdImages},
}

// usageError marks a bad command line; main prints the usage with it.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usage() {
	fmt.Fprintf(os.Stderr, "usage: cri-client [-r ENDPOINT] [--timeout SECONDS] COMMAND ...\n")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(os.Stderr, "  %s\n", commands[n].usage)
	}
}

// dial connects to a unix socket given as unix:///path or as a plain path.
func dial(endpoint string, timeout time.Duration) (*grpc.ClientConn, error) {
	path := strings.TrimPrefix(endpoint, "unix://")
	if path == "" || !strings.HasPrefix(path, "/") {
		return nil, fmt.Errorf("endpoint %q: expected unix:///PATH", endpoint)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	dialer := func(ctx context.Context, addr string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", addr)
	}
	conn, err := grpc.DialContext(ctx, path, grpc.WithInsecure(), grpc.WithBlock(),
		grpc.FailOnNonTempDialError(true), grpc.WithContextDialer(dialer),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(16<<20)))
	if err != nil {
		return nil, fmt.Errorf("connect %s: %v", path, err)
	}
	return conn, nil
}

func main() {
	os.Exit(realMain(os.Args[1:]))
}

func realMain(argv []string) int {
	global := flag.NewFlagSet("cri-client", flag.ContinueOnError)
	global.Usage = usage
	defEndpoint := os.Getenv("CONTAINER_RUNTIME_ENDPOINT")
	if defEndpoint == "" {
		defEndpoint = "unix:///run/containerd/containerd.sock"
	}
	endpoint := global.String("r", defEndpoint, "CRI endpoint (unix:///PATH); $CONTAINER_RUNTIME_ENDPOINT")
	global.StringVar(endpoint, "runtime-endpoint", defEndpoint, "same as -r")
	timeout := global.Int("timeout", 60, "seconds allowed per RPC")
	if err := global.Parse(argv); err != nil {
		return exitClientError
	}
	args := global.Args()
	if len(args) == 0 {
		usage()
		return exitClientError
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(os.Stderr, "cri-client: unknown command %q\n", args[0])
		usage()
		return exitClientError
	}
	conn, err := dial(*endpoint, time.Duration(*timeout)*time.Second)
	if err != nil {
		fmt.Fprintf(os.Stderr, "cri-client: %v\n", err)
		return exitClientError
	}
	defer conn.Close()
	c := &client{
		rt:      runtimeapi.NewRuntimeServiceClient(conn),
		img:     runtimeapi.NewImageServiceClient(conn),
		timeout: time.Duration(*timeout) * time.Second,
	}
	err = cmd.run(c, args[1:])
	switch e := err.(type) {
	case nil:
		return 0
	case exitStatus:
		return int(e)
	case usageError:
		fmt.Fprintf(os.Stderr, "cri-client %s: %s\nusage: cri-client %s\n", args[0], e.msg, cmd.usage)
		return exitClientError
	default:
		fmt.Fprintf(os.Stderr, "cri-client %s: %v\n", args[0], err)
		return exitClientError
	}
}

// exitStatus is returned by exec to make the client exit with the remote
// process's status, which is not an error of the client.
type exitStatus int

func (e exitStatus) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// newFlags is a flag set for one command whose errors come back as usage errors.
func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(nopWriter{})
	return fs
}

type nopWriter struct{}

func (nopWriter) Write(p []byte) (int, error) { return len(p), nil }

// parse parses flags and checks the number of positional arguments
// (max < 0: no upper bound).
func parse(fs *flag.FlagSet, args []string, min, max int) ([]string, error) {
	if err := fs.Parse(expandShortFlags(fs, args)); err != nil {
		return nil, usageError{err.Error()}
	}
	rest := fs.Args()
	if len(rest) < min || (max >= 0 && len(rest) > max) {
		return nil, usageError{"wrong number of arguments"}
	}
	return rest, nil
}

func cmdVersion(c *client, args []string) error {
	if _, err := parse(newFlags("version"), args, 0, 0); err != nil {
		return err
	}
	ctx, cancel := c.ctx()
	defer cancel()
	v, err := c.rt.Version(ctx, &runtimeapi.VersionRequest{Version: "v1"})
	if err != nil {
		return err
	}
	fmt.Printf("Version:  %s\nRuntimeName:  %s\nRuntimeVersion:  %s\nRuntimeApiVersion:  %s\n",
		v.Version, v.RuntimeName, v.RuntimeVersion, v.RuntimeApiVersion)
	return nil
}

func cmdInfo(c *client, args []string) error {
	if _, err := parse(newFlags("info"), args, 0, 0); err != nil {
		return err
	}
	ctx, cancel := c.ctx()
	defer cancel()
	r, err := c.rt.Status(ctx, &runtimeapi.StatusRequest{Verbose: true})
	if err != nil {
		return err
	}
	return printStatusInfo(r.Status, r.Info)
}

func cmdImages(c *client, args []string) error {
	fs := newFlags("images")
	quiet := fs.Bool("q", false, "IDs only")
	if _, err := parse(fs, args, 0, 0); err != nil {
		return err
	}
	ctx, cancel := c.ctx()
	defer cancel()
	r, err := c.img.ListImages(ctx, &runtimeapi.ListImagesRequest{})
	if err != nil {
		return err
	}
	for _, im := range r.Images {
		if *quiet {
			fmt.Println(im.Id)
			continue
		}
		fmt.Printf("%s\t%s\t%d\n", im.Id, strings.Join(im.RepoTags, ","), im.Size_)
	}
	return nil
}

// expandShortFlags turns "-it" into "-i" "-t" when every letter is a boolean
// flag of fs, as crictl accepts them (Go's flag package does not).
func expandShortFlags(fs *flag.FlagSet, args []string) []string {
	out := make([]string, 0, len(args))
	for i, a := range args {
		if a == "--" || !strings.HasPrefix(a, "-") || a == "-" {
			return append(out, args[i:]...)
		}
		if len(a) > 2 && a[1] != '-' && !strings.Contains(a, "=") && allBoolFlags(fs, a[1:]) {
			for _, r := range a[1:] {
				out = append(out, "-"+string(r))
			}
			continue
		}
		out = append(out, a)
		// a non-boolean flag's value is the next argument
		if f := fs.Lookup(strings.TrimLeft(a, "-")); f != nil && !isBoolFlag(f) && !strings.Contains(a, "=") &&
			i+1 < len(args) {
			out = append(out, args[i+1])
			return append(out, expandShortFlags(fs, args[i+2:])...)
		}
	}
	return out
}

func isBoolFlag(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

func allBoolFlags(fs *flag.FlagSet, letters string) bool {
	for _, r := range letters {
		f := fs.Lookup(string(r))
		if f == nil || !isBoolFlag(f) {
			return false
		}
	}
	return true
}
