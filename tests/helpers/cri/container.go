// SPDX-License-Identifier: Apache-2.0
package main

import (
	"flag"
	"fmt"
	"strings"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func cmdCreate(c *client, args []string) error {
	rest, err := parse(newFlags("create"), args, 3, 3)
	if err != nil {
		return err
	}
	var cfg runtimeapi.ContainerConfig
	if err := loadJSON(rest[1], &cfg); err != nil {
		return err
	}
	pod, err := loadPodConfig(rest[2])
	if err != nil {
		return err
	}
	ctx, cancel := c.ctx()
	defer cancel()
	r, err := c.rt.CreateContainer(ctx, &runtimeapi.CreateContainerRequest{
		PodSandboxId: rest[0], Config: &cfg, SandboxConfig: pod})
	if err != nil {
		return err
	}
	fmt.Println(r.ContainerId)
	return nil
}

func cmdStart(c *client, args []string) error {
	ids, err := parse(newFlags("start"), args, 1, -1)
	if err != nil {
		return err
	}
	return eachID(ids, func(id string) error {
		ctx, cancel := c.ctx()
		defer cancel()
		_, err := c.rt.StartContainer(ctx, &runtimeapi.StartContainerRequest{ContainerId: id})
		return err
	})
}

func cmdStop(c *client, args []string) error {
	fs := newFlags("stop")
	grace := fs.Int64("timeout", 10, "seconds between the stop signal and SIGKILL")
	ids, err := parse(fs, args, 1, -1)
	if err != nil {
		return err
	}
	return eachID(ids, func(id string) error {
		ctx, cancel := c.ctx()
		defer cancel()
		_, err := c.rt.StopContainer(ctx, &runtimeapi.StopContainerRequest{ContainerId: id, Timeout: *grace})
		return err
	})
}

func cmdRm(c *client, args []string) error {
	ids, err := parse(newFlags("rm"), args, 1, -1)
	if err != nil {
		return err
	}
	return eachID(ids, func(id string) error {
		ctx, cancel := c.ctx()
		defer cancel()
		_, err := c.rt.RemoveContainer(ctx, &runtimeapi.RemoveContainerRequest{ContainerId: id})
		return err
	})
}

// containerStates maps ps --state words to CRI states.
var containerStates = map[string]runtimeapi.ContainerState{
	"created": runtimeapi.ContainerState_CONTAINER_CREATED,
	"running": runtimeapi.ContainerState_CONTAINER_RUNNING,
	"exited":  runtimeapi.ContainerState_CONTAINER_EXITED,
	"unknown": runtimeapi.ContainerState_CONTAINER_UNKNOWN,
}

// cmdPs lists containers: ID, name, state, pod ID, one per line (tab
// separated); running ones only unless -a or --state, as crictl.
func cmdPs(c *client, args []string) error {
	fs := newFlags("ps")
	all := fs.Bool("a", false, "all states")
	quiet := fs.Bool("q", false, "IDs only")
	pod := fs.String("pod", "", "only containers of this pod")
	name := fs.String("name", "", "only containers whose name contains NAME")
	state := fs.String("state", "", "created, running, exited or unknown")
	if _, err := parse(fs, args, 0, 0); err != nil {
		return err
	}
	filter := &runtimeapi.ContainerFilter{PodSandboxId: *pod}
	if *state != "" {
		s, ok := containerStates[strings.ToLower(*state)]
		if !ok {
			return usageError{"--state: created, running, exited or unknown"}
		}
		filter.State = &runtimeapi.ContainerStateValue{State: s}
	} else if !*all {
		filter.State = &runtimeapi.ContainerStateValue{State: runtimeapi.ContainerState_CONTAINER_RUNNING}
	}
	ctx, cancel := c.ctx()
	defer cancel()
	r, err := c.rt.ListContainers(ctx, &runtimeapi.ListContainersRequest{Filter: filter})
	if err != nil {
		return err
	}
	for _, ct := range r.Containers {
		if *name != "" && !strings.Contains(ct.Metadata.GetName(), *name) {
			continue
		}
		if *quiet {
			fmt.Println(ct.Id)
			continue
		}
		fmt.Printf("%s\t%s\t%s\t%s\n", ct.Id, ct.Metadata.GetName(), ct.State.String(), ct.PodSandboxId)
	}
	return nil
}

func containerStatus(c *client, id string, verbose bool) (*runtimeapi.ContainerStatusResponse, error) {
	ctx, cancel := c.ctx()
	defer cancel()
	return c.rt.ContainerStatus(ctx, &runtimeapi.ContainerStatusRequest{ContainerId: id, Verbose: verbose})
}

func cmdInspect(c *client, args []string) error {
	rest, err := parse(newFlags("inspect"), args, 1, 1)
	if err != nil {
		return err
	}
	r, err := containerStatus(c, rest[0], true)
	if err != nil {
		return err
	}
	return printStatusInfo(r.Status, r.Info)
}

func cmdStats(c *client, args []string) error {
	rest, err := parse(newFlags("stats"), args, 1, 1)
	if err != nil {
		return err
	}
	ctx, cancel := c.ctx()
	defer cancel()
	r, err := c.rt.ContainerStats(ctx, &runtimeapi.ContainerStatsRequest{ContainerId: rest[0]})
	if err != nil {
		return err
	}
	s, err := protoJSON(r.Stats)
	if err != nil {
		return err
	}
	return printJSON(s)
}

// keyValues collects repeated KEY=VALUE flags.
type keyValues map[string]string

func (kv keyValues) String() string { return fmt.Sprint(map[string]string(kv)) }

func (kv keyValues) Set(s string) error {
	i := strings.IndexByte(s, '=')
	if i <= 0 {
		return fmt.Errorf("%q: expected KEY=VALUE", s)
	}
	kv[s[:i]] = s[i+1:]
	return nil
}

// cmdUpdate sends UpdateContainerResources with the fields given; containerd
// merges them into the container's current resources and passes the result
// to the shim (`runtime update --resources -`).
func cmdUpdate(c *client, args []string) error {
	fs := newFlags("update")
	res := &runtimeapi.LinuxContainerResources{Unified: keyValues{}}
	fs.Int64Var(&res.MemoryLimitInBytes, "memory", 0, "memory limit in bytes")
	fs.Int64Var(&res.MemorySwapLimitInBytes, "memory-swap", 0, "memory+swap limit in bytes")
	fs.Int64Var(&res.CpuShares, "cpu-shares", 0, "CPU shares")
	fs.Int64Var(&res.CpuQuota, "cpu-quota", 0, "CFS quota in microseconds")
	fs.Int64Var(&res.CpuPeriod, "cpu-period", 0, "CFS period in microseconds")
	fs.StringVar(&res.CpusetCpus, "cpuset-cpus", "", "CPUs allowed (e.g. 0-1)")
	fs.StringVar(&res.CpusetMems, "cpuset-mems", "", "memory nodes allowed")
	fs.Var(keyValues(res.Unified), "unified", "cgroup v2 KEY=VALUE (repeatable)")
	rest, err := parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	if len(res.Unified) == 0 {
		res.Unified = nil
	}
	set := 0
	fs.Visit(func(*flag.Flag) { set++ })
	if set == 0 {
		return usageError{"nothing to update"}
	}
	ctx, cancel := c.ctx()
	defer cancel()
	_, err = c.rt.UpdateContainerResources(ctx, &runtimeapi.UpdateContainerResourcesRequest{
		ContainerId: rest[0], Linux: res})
	if err != nil {
		return err
	}
	fmt.Println(rest[0])
	return nil
}
