// SPDX-License-Identifier: Apache-2.0
package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/term"
	restclient "k8s.io/client-go/rest"
	"k8s.io/client-go/tools/remotecommand"
	utilexec "k8s.io/client-go/util/exec"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// cmdExec runs CMD in a container. With --sync: ExecSync, the output comes
// back in the RPC's reply. Otherwise: Exec, then the streams through the
// runtime's streaming server (the URL in the reply; SPDY, as kubelet and
// crictl do it), with a terminal when -t. Either way the client exits with
// the process's exit code.
func cmdExec(c *client, args []string) error {
	fs := newFlags("exec")
	sync := fs.Bool("sync", false, "ExecSync: output returned in the reply")
	fs.BoolVar(sync, "s", false, "same as --sync")
	tty := fs.Bool("t", false, "allocate a terminal")
	interactive := fs.Bool("i", false, "pass our stdin")
	size := fs.String("size", "", "terminal size ROWSxCOLS (default: our terminal's)")
	timeout := fs.Int64("timeout", 0, "ExecSync: seconds before the process is killed (0: none)")
	rest, err := parse(fs, args, 2, -1)
	if err != nil {
		return err
	}
	id, cmd := rest[0], rest[1:]
	if *sync {
		if *tty || *interactive {
			return usageError{"--sync takes neither -t nor -i"}
		}
		return execSync(c, id, cmd, *timeout)
	}
	var fixed *remotecommand.TerminalSize
	if *size != "" {
		if !*tty {
			return usageError{"--size needs -t"}
		}
		if fixed, err = parseSize(*size); err != nil {
			return usageError{err.Error()}
		}
	}
	return execStream(c, id, cmd, *tty, *interactive, fixed)
}

func execSync(c *client, id string, cmd []string, timeout int64) error {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout+time.Duration(timeout)*time.Second)
	defer cancel()
	r, err := c.rt.ExecSync(ctx, &runtimeapi.ExecSyncRequest{ContainerId: id, Cmd: cmd, Timeout: timeout})
	if err != nil {
		return err
	}
	os.Stdout.Write(r.Stdout)
	os.Stderr.Write(r.Stderr)
	if r.ExitCode != 0 {
		return exitStatus(r.ExitCode)
	}
	return nil
}

func parseSize(s string) (*remotecommand.TerminalSize, error) {
	parts := strings.Split(s, "x")
	if len(parts) != 2 {
		return nil, fmt.Errorf("--size %q: expected ROWSxCOLS", s)
	}
	rows, err1 := strconv.ParseUint(parts[0], 10, 16)
	cols, err2 := strconv.ParseUint(parts[1], 10, 16)
	if err1 != nil || err2 != nil || rows == 0 || cols == 0 {
		return nil, fmt.Errorf("--size %q: expected ROWSxCOLS", s)
	}
	return &remotecommand.TerminalSize{Height: uint16(rows), Width: uint16(cols)}, nil
}

// sizeQueue hands the terminal sizes to the executor: a fixed size once, or
// our terminal's size now and after each SIGWINCH.
type sizeQueue struct {
	ch chan remotecommand.TerminalSize
}

func (q *sizeQueue) Next() *remotecommand.TerminalSize {
	s, ok := <-q.ch
	if !ok {
		return nil
	}
	return &s
}

func newSizeQueue(fixed *remotecommand.TerminalSize, fd int, done <-chan struct{}) *sizeQueue {
	q := &sizeQueue{ch: make(chan remotecommand.TerminalSize, 1)}
	if fixed != nil {
		q.ch <- *fixed
		return q
	}
	winch := make(chan os.Signal, 1)
	signal.Notify(winch, syscall.SIGWINCH)
	go func() {
		defer signal.Stop(winch)
		for {
			if w, h, err := term.GetSize(fd); err == nil {
				select {
				case q.ch <- remotecommand.TerminalSize{Width: uint16(w), Height: uint16(h)}:
				case <-done:
					return
				}
			}
			select {
			case <-winch:
			case <-done:
				return
			}
		}
	}()
	return q
}

func execStream(c *client, id string, cmd []string, tty, interactive bool, fixed *remotecommand.TerminalSize) error {
	ctx, cancel := c.ctx()
	r, err := c.rt.Exec(ctx, &runtimeapi.ExecRequest{ContainerId: id, Cmd: cmd, Tty: tty,
		Stdin: interactive, Stdout: true, Stderr: !tty})
	cancel()
	if err != nil {
		return err
	}
	return stream(r.Url, tty, interactive, fixed)
}

// cmdAttach connects to a running container's own stdio (its config must
// have "stdin": true for -i, and "tty" as given with -t). With "stdin_once"
// in its config, containerd closes the container's stdin when we detach.
func cmdAttach(c *client, args []string) error {
	fs := newFlags("attach")
	tty := fs.Bool("t", false, "the container has a terminal")
	interactive := fs.Bool("i", false, "pass our stdin")
	rest, err := parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	ctx, cancel := c.ctx()
	r, err := c.rt.Attach(ctx, &runtimeapi.AttachRequest{ContainerId: rest[0], Tty: *tty,
		Stdin: *interactive, Stdout: true, Stderr: !*tty})
	cancel()
	if err != nil {
		return err
	}
	return stream(r.Url, *tty, *interactive, nil)
}

// stream runs the streams of an Exec or Attach through the URL the runtime
// returned, and turns the remote exit code into ours.
func stream(rawURL string, tty, interactive bool, fixed *remotecommand.TerminalSize) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return fmt.Errorf("streaming URL %q: %v", rawURL, err)
	}
	ex, err := remotecommand.NewSPDYExecutor(&restclient.Config{
		TLSClientConfig: restclient.TLSClientConfig{Insecure: true}}, "POST", u)
	if err != nil {
		return err
	}
	opts := remotecommand.StreamOptions{Stdout: os.Stdout, Tty: tty}
	if !tty {
		opts.Stderr = os.Stderr
	}
	if interactive {
		opts.Stdin = os.Stdin
	}
	stdinFd := int(os.Stdin.Fd())
	localTerm := tty && term.IsTerminal(stdinFd)
	done := make(chan struct{})
	defer close(done)
	if tty && (fixed != nil || localTerm) {
		opts.TerminalSizeQueue = newSizeQueue(fixed, stdinFd, done)
	}
	if localTerm && interactive {
		old, err := term.MakeRaw(stdinFd)
		if err != nil {
			return err
		}
		defer term.Restore(stdinFd, old)
	}
	err = ex.Stream(opts)
	if e, ok := err.(utilexec.ExitError); ok && e.Exited() {
		return exitStatus(e.ExitStatus())
	}
	return err
}
