// SPDX-License-Identifier: Apache-2.0
package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
)

// cmdLogs prints a container's log: the file named by its status's logPath
// (the pod's log_directory joined with the container's log_path), which
// containerd writes in the CRI log format, one line per record:
//
//	2006-01-02T15:04:05.999999999Z07:00 stdout|stderr F|P CONTENT
//
// F closes a line, P is a part of a longer one. Each record's content goes to
// our stdout or stderr as its stream says; --raw prints the file as it is.
func cmdLogs(c *client, args []string) error {
	fs := newFlags("logs")
	raw := fs.Bool("raw", false, "print the log file as it is")
	only := fs.String("stream", "", "stdout or stderr only")
	rest, err := parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	if *only != "" && *only != "stdout" && *only != "stderr" {
		return usageError{"--stream: stdout or stderr"}
	}
	r, err := containerStatus(c, rest[0], false)
	if err != nil {
		return err
	}
	path := r.Status.GetLogPath()
	if path == "" {
		return fmt.Errorf("container has no log path (no log_directory in its pod config?)")
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if *raw {
		_, err = io.Copy(os.Stdout, f)
		return err
	}
	return copyCRILog(f, *only)
}

func copyCRILog(f io.Reader, only string) error {
	rd := bufio.NewReader(f)
	out := map[string]*bufio.Writer{"stdout": bufio.NewWriter(os.Stdout), "stderr": bufio.NewWriter(os.Stderr)}
	defer out["stdout"].Flush()
	defer out["stderr"].Flush()
	for n := 1; ; n++ {
		line, err := rd.ReadBytes('\n')
		if len(line) > 0 {
			stream, content, perr := parseCRILogLine(line)
			if perr != nil {
				return fmt.Errorf("log line %d: %v", n, perr)
			}
			if only == "" || only == stream {
				out[stream].Write(content)
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// parseCRILogLine splits one record; content keeps its newline when the tag
// is F (full) and has none when it is P (partial).
func parseCRILogLine(line []byte) (string, []byte, error) {
	line = bytes.TrimSuffix(line, []byte("\n"))
	fields := bytes.SplitN(line, []byte(" "), 4)
	if len(fields) < 3 {
		return "", nil, fmt.Errorf("%q: not TIMESTAMP STREAM TAG CONTENT", line)
	}
	stream := string(fields[1])
	if stream != "stdout" && stream != "stderr" {
		return "", nil, fmt.Errorf("%q: unknown stream %q", line, stream)
	}
	var content []byte
	if len(fields) == 4 {
		content = append(content, fields[3]...)
	}
	switch string(fields[2]) {
	case "F":
		content = append(content, '\n')
	case "P":
	default:
		return "", nil, fmt.Errorf("%q: unknown tag %q", line, fields[2])
	}
	return stream, content, nil
}
