// SPDX-License-Identifier: Apache-2.0
package main

import (
	"fmt"
	"strings"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func loadPodConfig(path string) (*runtimeapi.PodSandboxConfig, error) {
	var cfg runtimeapi.PodSandboxConfig
	if err := loadJSON(path, &cfg); err != nil {
		return nil, err
	}
	return &cfg, nil
}

func cmdRunp(c *client, args []string) error {
	fs := newFlags("runp")
	handler := fs.String("runtime", "", "runtime handler (a runtime name of containerd's CRI config)")
	rest, err := parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	cfg, err := loadPodConfig(rest[0])
	if err != nil {
		return err
	}
	ctx, cancel := c.ctx()
	defer cancel()
	r, err := c.rt.RunPodSandbox(ctx, &runtimeapi.RunPodSandboxRequest{Config: cfg, RuntimeHandler: *handler})
	if err != nil {
		return err
	}
	fmt.Println(r.PodSandboxId)
	return nil
}

// eachID runs fn for every ID and fails with the first error, after trying all.
func eachID(ids []string, fn func(id string) error) error {
	var first error
	for _, id := range ids {
		if err := fn(id); err != nil {
			if first == nil {
				first = fmt.Errorf("%s: %v", id, err)
			}
			continue
		}
		fmt.Println(id)
	}
	return first
}

func cmdStopp(c *client, args []string) error {
	ids, err := parse(newFlags("stopp"), args, 1, -1)
	if err != nil {
		return err
	}
	return eachID(ids, func(id string) error {
		ctx, cancel := c.ctx()
		defer cancel()
		_, err := c.rt.StopPodSandbox(ctx, &runtimeapi.StopPodSandboxRequest{PodSandboxId: id})
		return err
	})
}

func cmdRmp(c *client, args []string) error {
	ids, err := parse(newFlags("rmp"), args, 1, -1)
	if err != nil {
		return err
	}
	return eachID(ids, func(id string) error {
		ctx, cancel := c.ctx()
		defer cancel()
		_, err := c.rt.RemovePodSandbox(ctx, &runtimeapi.RemovePodSandboxRequest{PodSandboxId: id})
		return err
	})
}

func cmdPods(c *client, args []string) error {
	fs := newFlags("pods")
	quiet := fs.Bool("q", false, "IDs only")
	name := fs.String("name", "", "only pods whose metadata name contains NAME")
	state := fs.String("state", "", "ready or notready")
	if _, err := parse(fs, args, 0, 0); err != nil {
		return err
	}
	filter := &runtimeapi.PodSandboxFilter{}
	switch strings.ToLower(*state) {
	case "":
	case "ready":
		filter.State = &runtimeapi.PodSandboxStateValue{State: runtimeapi.PodSandboxState_SANDBOX_READY}
	case "notready":
		filter.State = &runtimeapi.PodSandboxStateValue{State: runtimeapi.PodSandboxState_SANDBOX_NOTREADY}
	default:
		return usageError{"--state: ready or notready"}
	}
	ctx, cancel := c.ctx()
	defer cancel()
	r, err := c.rt.ListPodSandbox(ctx, &runtimeapi.ListPodSandboxRequest{Filter: filter})
	if err != nil {
		return err
	}
	for _, p := range r.Items {
		if *name != "" && !strings.Contains(p.Metadata.GetName(), *name) {
			continue
		}
		if *quiet {
			fmt.Println(p.Id)
			continue
		}
		fmt.Printf("%s\t%s\t%s\t%s\t%s\n", p.Id, p.Metadata.GetName(), p.Metadata.GetNamespace(),
			p.State.String(), p.RuntimeHandler)
	}
	return nil
}

func cmdInspectp(c *client, args []string) error {
	rest, err := parse(newFlags("inspectp"), args, 1, 1)
	if err != nil {
		return err
	}
	ctx, cancel := c.ctx()
	defer cancel()
	r, err := c.rt.PodSandboxStatus(ctx, &runtimeapi.PodSandboxStatusRequest{PodSandboxId: rest[0], Verbose: true})
	if err != nil {
		return err
	}
	return printStatusInfo(r.Status, r.Info)
}
