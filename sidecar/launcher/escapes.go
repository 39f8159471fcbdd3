package main

// What a server started that left its process group: a daemon (setsid, double fork) is in a group
// and session of its own, so killing the server's group misses it. The launcher is a subreaper, so
// whatever a server starts stays its descendant; each server's environment carries a marker that
// its children inherit. When a server's session ends, every descendant of the launcher that carries
// its marker, or that can no longer be told apart (marker gone, no live server above it), is frozen
// (SIGSTOP, so it cannot fork away while the sweep runs) and then killed. Until then such processes
// count toward -max-processes. /proc is read directly: there is no library for it in the stdlib,
// and the launcher is stdlib only.

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// markerVar names the process in the environment of the server and of all it starts.
const markerVar = "PORTCULLIS_LAUNCHER_PROCESS"

// How many times a sweep scans again for what forked while it was stopping processes.
const sweepRounds = 20

type procEntry struct {
	pid, ppid, pgid int
	marker          string // "" when absent or unreadable
}

// scanDescendants lists the live (not zombie) descendants of the launcher, by pid.
func scanDescendants() map[int]procEntry {
	self := os.Getpid()
	dirs, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	all := map[int]procEntry{}
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil || pid == self {
			continue
		}
		if e, ok := readStat(pid); ok {
			all[pid] = e
		}
	}
	out := map[int]procEntry{}
	for pid, e := range all {
		// Walk up to the launcher; a chain longer than the table is a cycle (pid reuse mid-scan).
		q := e.ppid
		for steps := 0; q != self && q > 1 && steps <= len(all); steps++ {
			q = all[q].ppid
		}
		if q == self {
			e.marker = readMarker(pid)
			out[pid] = e
		}
	}
	return out
}

// readStat reads ppid and pgid from /proc/PID/stat; false for zombies and processes gone.
func readStat(pid int) (procEntry, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procEntry{}, false
	}
	// "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses; the last ')' ends it.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return procEntry{}, false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 3 || f[0] == "Z" || f[0] == "X" {
		return procEntry{}, false
	}
	ppid, err1 := strconv.Atoi(f[1])
	pgid, err2 := strconv.Atoi(f[2])
	if err1 != nil || err2 != nil {
		return procEntry{}, false
	}
	return procEntry{pid: pid, ppid: ppid, pgid: pgid}, true
}

func readMarker(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
	if err != nil {
		return ""
	}
	prefix := []byte(markerVar + "=")
	for _, kv := range bytes.Split(b, []byte{0}) {
		if bytes.HasPrefix(kv, prefix) {
			return string(kv[len(prefix):])
		}
	}
	return ""
}

// ownerOf names the live server a descendant belongs to, or nil: by its marker; failing that (it
// cleared its environment), by the group of a live server it or its nearest ancestor is in.
func ownerOf(e procEntry, tree map[int]procEntry, byMarker map[string]*proc, leaders map[int]*proc) *proc {
	for steps := 0; steps <= len(tree); steps++ {
		if e.marker != "" {
			return byMarker[e.marker]
		}
		if p := leaders[e.pgid]; p != nil {
			return p
		}
		parent, ok := tree[e.ppid]
		if !ok {
			return nil // the launcher's own child: no server above it
		}
		e = parent
	}
	return nil
}

// liveLocked indexes the processes whose server is still running. Holds l.mu.
func (l *launcher) liveLocked() (byMarker map[string]*proc, leaders map[int]*proc) {
	byMarker, leaders = map[string]*proc{}, map[int]*proc{}
	for _, p := range l.procs {
		if p.done || p.pid == 0 {
			continue
		}
		byMarker[p.marker] = p
		leaders[p.pid] = p
	}
	return byMarker, leaders
}

// escapedLocked counts descendants no live server owns: they still hold a process slot. Holds l.mu.
func (l *launcher) escapedLocked() int {
	byMarker, leaders := l.liveLocked()
	n := 0
	tree := scanDescendants()
	for _, e := range tree {
		if ownerOf(e, tree, byMarker, leaders) == nil {
			n++
		}
	}
	return n
}

// sweep kills every descendant that belongs to p (by its marker) or to no live server; with p nil,
// every descendant. Returns how many it killed. l.mu is held throughout, so no server is being
// started (between fork and exec a child has no marker yet) while it decides.
func (l *launcher) sweep(p *proc) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	byMarker, leaders := l.liveLocked()
	delete(byMarker, markerOf(p))
	if p != nil {
		delete(leaders, p.pid)
	}
	stopped := map[int]bool{}
	for round := 0; round < sweepRounds; round++ {
		found := false
		tree := scanDescendants()
		for _, e := range tree {
			if stopped[e.pid] {
				continue
			}
			if p != nil && ownerOf(e, tree, byMarker, leaders) != nil {
				continue // another live server's
			}
			_ = syscall.Kill(e.pid, syscall.SIGSTOP)
			stopped[e.pid] = true
			found = true
		}
		if !found {
			break
		}
	}
	for pid := range stopped {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	return len(stopped)
}

func markerOf(p *proc) string {
	if p == nil {
		return ""
	}
	return p.marker
}
