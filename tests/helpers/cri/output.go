// SPDX-License-Identifier: Apache-2.0
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"

	"github.com/gogo/protobuf/jsonpb"
	"github.com/gogo/protobuf/proto"
)

// loadJSON reads one of crictl's input files (snake_case field names, the
// json tags of the generated types) into msg.
func loadJSON(path string, msg interface{}) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(msg); err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	return nil
}

// protoJSON is msg as protobuf JSON: camelCase names, enums by name, zero
// values included, as crictl's inspect prints it.
func protoJSON(msg proto.Message) (json.RawMessage, error) {
	m := jsonpb.Marshaler{EmitDefaults: true}
	s, err := m.MarshalToString(msg)
	if err != nil {
		return nil, err
	}
	return json.RawMessage(s), nil
}

// printStatusInfo prints {"status": STATUS, "info": {...}} as crictl does:
// the verbose info values are JSON documents themselves and are embedded as
// such; the fields of the one named "info" (containerd's: pid, runtimeSpec,
// runtimeHandler, ...) are lifted into "info".
func printStatusInfo(status proto.Message, info map[string]string) error {
	out := map[string]interface{}{}
	if status != nil {
		s, err := protoJSON(status)
		if err != nil {
			return err
		}
		out["status"] = s
	}
	in := map[string]interface{}{}
	for k, v := range info {
		if !json.Valid([]byte(v)) {
			in[k] = v
			continue
		}
		var fields map[string]json.RawMessage
		if k == "info" && json.Unmarshal([]byte(v), &fields) == nil {
			for fk, fv := range fields {
				in[fk] = fv
			}
			continue
		}
		in[k] = json.RawMessage(v)
	}
	out["info"] = in
	return printJSON(out)
}

func printJSON(v interface{}) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Printf("%s\n", b)
	return err
}
