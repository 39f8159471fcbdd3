// The Portcullis stdio launcher: the entrypoint of a stdio MCP server's container. It listens on a
// Unix socket in a volume shared with the sidecar and, per connection, starts the server's command
// (given after "--", fixed by the pod spec: the sidecar cannot choose what runs) in its own process
// group, with its own working directory, HOME and TMPDIR, and pipes the connection to the process's
// stdin and stdout. Its stderr goes to the container log, one JSON line per line, tagged with the
// session. The connection's end stops the group; SIGTERM stops every group; the launcher reaps
// every child, so it can be PID 1. Stdlib only and built with CGO_ENABLED=0: one static binary
// that runs in any image (glibc or musl, with or without Node or Python).
//
// The protocol (docs/stdio.md): the client writes one JSON line, the launcher answers one.
//
//	{"op":"spawn","id":"<id>","graceMs":5000}  →  {"pid":123}, then raw stdin ⇄ stdout until either end closes
//	{"op":"tag","id":"<id>","session":"<sid>"}  →  {"ok":true}, and the connection closes
//	anything else, or past the limit            →  {"error":"..."}, and the connection closes
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"sync"
	"syscall"
	"time"
)

const (
	maxRequestBytes     = 4096
	requestTimeout      = 10 * time.Second
	maxLogLineBytes     = 16 * 1024
	prSetChildSubreaper = 36
	// How long a killed group whose leader ended is given to empty (its members are reaped as orphans).
	groupReapTime = 5 * time.Second
)

var validID = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)

type request struct {
	Op      string `json:"op"`
	ID      string `json:"id"`
	GraceMs int    `json:"graceMs"`
	Session string `json:"session"`
}

type launcher struct {
	command  []string
	sessions string
	max      int
	grace    time.Duration

	mu       sync.Mutex
	procs    map[string]*proc // by id
	byPid    map[int]*proc
	closing  bool
	stderrMu sync.Mutex
}

type proc struct {
	id      string
	pid     int
	dir     string
	session string
	grace   time.Duration
	exited  chan struct{} // closed once the leader is reaped
	done    bool          // the group is gone: its id may name another group now, never signal it again
}

func main() {
	// "launcher install DEST": the init container copies the launcher into the pod's shared volume,
	// with no shell or cp in the sidecar image.
	if len(os.Args) == 3 && os.Args[1] == "install" {
		if err := install(os.Args[2]); err != nil {
			fmt.Fprintf(os.Stderr, "launcher install: %v\n", err)
			os.Exit(1)
		}
		return
	}
	socket := flag.String("socket", "/run/portcullis/launcher.sock", "Unix socket the sidecar connects to")
	sessions := flag.String("sessions", "/var/lib/portcullis/sessions", "folder (made afresh; its parent must exist) that holds each process's own working directory")
	max := flag.Int("max-processes", 64, "most server processes alive at once (the sidecar's own cap should be lower)")
	grace := flag.Duration("grace", 5*time.Second, "time a stopped process group has between SIGTERM and SIGKILL at shutdown")
	flag.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: %s [flags] -- command [args...]\n       %s install DEST\n", os.Args[0], os.Args[0])
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() == 0 || *max < 1 {
		flag.Usage()
		os.Exit(2)
	}
	l := &launcher{
		command: flag.Args(), sessions: *sessions, max: *max, grace: *grace,
		procs: map[string]*proc{}, byPid: map[int]*proc{},
	}
	if err := l.run(*socket); err != nil {
		l.log("error", err.Error(), nil)
		os.Exit(1)
	}
}

func (l *launcher) run(socket string) error {
	// Orphans of a server (what npx or uvx started) come to the launcher, not to an init that may
	// not exist: it waits for them so none is left a zombie. As PID 1 this holds already.
	if os.Getpid() != 1 {
		if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0); errno != 0 {
			return fmt.Errorf("cannot become a subreaper: %v", errno)
		}
	}
	sigchld := make(chan os.Signal, 16)
	signal.Notify(sigchld, syscall.SIGCHLD)
	go l.reap(sigchld)

	// The folder is the launcher's own, made afresh (what a previous run left belongs to processes
	// that are gone): 0711, so that a process can enter its own directory (whose name it is given)
	// but cannot list those of the others. Its parent (a volume's root) need not be the launcher's.
	if err := os.RemoveAll(l.sessions); err != nil {
		return err
	}
	if err := os.Mkdir(l.sessions, 0o711); err != nil {
		return err
	}
	if err := os.Chmod(l.sessions, 0o711); err != nil { // past the umask
		return err
	}
	_ = os.Remove(socket) // left by a launcher that was killed
	ln, err := net.Listen("unix", socket)
	if err != nil {
		return err
	}
	if err := os.Chmod(socket, 0o660); err != nil {
		return err
	}
	l.log("info", "launcher listening", map[string]any{"socket": socket, "command": l.command})

	stop := make(chan os.Signal, 2)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-stop
		_ = ln.Close()
	}()
	for {
		conn, err := ln.Accept()
		if err != nil {
			break
		}
		go l.serve(conn.(*net.UnixConn))
	}
	l.shutdown()
	_ = os.Remove(socket)
	return nil
}

// shutdown stops every group (SIGTERM, SIGKILL after the grace) and returns once all are gone.
func (l *launcher) shutdown() {
	l.mu.Lock()
	l.closing = true
	all := make([]*proc, 0, len(l.procs))
	for _, p := range l.procs {
		all = append(all, p)
	}
	l.mu.Unlock()
	var wg sync.WaitGroup
	for _, p := range all {
		wg.Add(1)
		go func() { defer wg.Done(); l.stop(p, l.grace) }()
	}
	wg.Wait()
}

func (l *launcher) serve(conn *net.UnixConn) {
	defer conn.Close()
	// A client that connects and says nothing holds nothing for long.
	_ = conn.SetReadDeadline(time.Now().Add(requestTimeout))
	r := bufio.NewReaderSize(io.LimitReader(conn, maxRequestBytes), maxRequestBytes)
	line, err := r.ReadBytes('\n')
	if err != nil {
		answer(conn, map[string]any{"error": "expected one JSON request line"})
		return
	}
	var req request
	if err := json.Unmarshal(line, &req); err != nil || !validID.MatchString(req.ID) {
		answer(conn, map[string]any{"error": "bad request: want {op, id} with id of [A-Za-z0-9_-]{1,128}"})
		return
	}
	_ = conn.SetReadDeadline(time.Time{})
	switch req.Op {
	case "tag":
		l.mu.Lock()
		p := l.procs[req.ID]
		if p != nil {
			p.session = req.Session
		}
		l.mu.Unlock()
		if p == nil {
			answer(conn, map[string]any{"error": "no such process"})
			return
		}
		answer(conn, map[string]any{"ok": true})
	case "spawn":
		// What the client sent past its request line is the server's first input.
		l.spawn(conn, req, r.Buffered())
	default:
		answer(conn, map[string]any{"error": "unknown op " + req.Op})
	}
}

func answer(conn net.Conn, v any) {
	b, _ := json.Marshal(v)
	_, _ = conn.Write(append(b, '\n'))
}

func (l *launcher) spawn(conn *net.UnixConn, req request, buffered int) {
	if buffered > 0 {
		answer(conn, map[string]any{"error": "send nothing before the spawn answer"})
		return
	}
	grace := l.grace
	if req.GraceMs > 0 {
		grace = time.Duration(req.GraceMs) * time.Millisecond
	}
	l.mu.Lock()
	refusal := ""
	switch {
	case l.closing:
		refusal = "the launcher is shutting down"
	case len(l.procs) >= l.max:
		refusal = fmt.Sprintf("at capacity: %d processes (-max-processes)", l.max)
	case l.procs[req.ID] != nil:
		refusal = "id in use"
	}
	if refusal != "" {
		l.mu.Unlock()
		answer(conn, map[string]any{"error": refusal})
		return
	}
	p := &proc{id: req.ID, dir: filepath.Join(l.sessions, req.ID), grace: grace, exited: make(chan struct{})}
	l.procs[p.id] = p
	l.mu.Unlock()

	if err := l.start(p, conn); err != nil {
		l.forget(p)
		_ = os.RemoveAll(p.dir)
		l.log("error", "cannot start the server", map[string]any{"err": err.Error(), "process": p.id})
		answer(conn, map[string]any{"error": err.Error()})
		return
	}
}

func (l *launcher) start(p *proc, conn *net.UnixConn) error {
	if err := os.Mkdir(p.dir, 0o700); err != nil {
		return err
	}
	stdinR, stdinW, err := os.Pipe()
	if err != nil {
		return err
	}
	stdoutR, stdoutW, err := os.Pipe()
	if err != nil {
		stdinR.Close()
		stdinW.Close()
		return err
	}
	stderrR, stderrW, err := os.Pipe()
	if err != nil {
		stdinR.Close()
		stdinW.Close()
		stdoutR.Close()
		stdoutW.Close()
		return err
	}
	path, err := exec.LookPath(l.command[0])
	if err != nil {
		return err
	}
	env := append(os.Environ(), "HOME="+p.dir, "TMPDIR="+p.dir)
	// The reaper must know the pid before it can be reaped: hold the lock across the start.
	l.mu.Lock()
	child, err := os.StartProcess(path, l.command, &os.ProcAttr{
		Dir:   p.dir,
		Env:   env,
		Files: []*os.File{stdinR, stdoutW, stderrW},
		Sys:   &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL},
	})
	if err == nil {
		p.pid = child.Pid
		l.byPid[p.pid] = p
		// The reaper waits for it (wait4 on any child); the handle (a pidfd) would only leak.
		_ = child.Release()
	}
	l.mu.Unlock()
	stdinR.Close()
	stdoutW.Close()
	stderrW.Close()
	if err != nil {
		stdinW.Close()
		stdoutR.Close()
		stderrR.Close()
		return err
	}
	answer(conn, map[string]any{"pid": p.pid})
	l.log("info", "server started", map[string]any{"pid": p.pid, "process": p.id})

	go l.logStderr(p, stderrR)
	// The connection's end (or a failed write) stops the group; the group's end closes the connection.
	go func() {
		_, _ = io.Copy(stdinW, conn)
		stdinW.Close()
		l.stop(p, p.grace)
	}()
	_, _ = io.Copy(conn, stdoutR)
	stdoutR.Close()
	<-p.exited
	// The leader is gone: what it left running in its group is killed, as the sidecar would. While a
	// member is left the group id cannot be reused; once it is empty it is never signalled again.
	l.killGroup(p, syscall.SIGKILL)
	for reapBy := time.Now().Add(groupReapTime); groupAlive(p.pid) && time.Now().Before(reapBy); {
		time.Sleep(50 * time.Millisecond)
	}
	l.mu.Lock()
	p.done = true
	l.mu.Unlock()
	l.forget(p)
	_ = os.RemoveAll(p.dir)
	return nil
}

// stop ends a group: SIGTERM, then SIGKILL to what is left after grace. Returns once the leader is reaped.
func (l *launcher) stop(p *proc, grace time.Duration) {
	l.killGroup(p, syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(grace):
	}
	deadline := time.Now().Add(grace)
	for l.alive(p) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	l.killGroup(p, syscall.SIGKILL)
	<-p.exited
}

func (l *launcher) killGroup(p *proc, sig syscall.Signal) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !p.done {
		_ = syscall.Kill(-p.pid, sig)
	}
}

func (l *launcher) alive(p *proc) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return !p.done && groupAlive(p.pid)
}

func groupAlive(pgid int) bool {
	err := syscall.Kill(-pgid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

func (l *launcher) forget(p *proc) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.procs[p.id] == p {
		delete(l.procs, p.id)
	}
}

// reap waits for every child that ends, the servers and the orphans handed to the launcher.
func (l *launcher) reap(sigchld <-chan os.Signal) {
	for range sigchld {
		for {
			var ws syscall.WaitStatus
			pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
			l.mu.Lock()
			p := l.byPid[pid]
			delete(l.byPid, pid)
			l.mu.Unlock()
			if p != nil {
				l.log("info", "server ended", map[string]any{"pid": pid, "process": p.id, "session": p.session, "code": ws.ExitStatus(), "signal": signalName(ws)})
				close(p.exited)
			}
		}
	}
}

func signalName(ws syscall.WaitStatus) any {
	if ws.Signaled() {
		return ws.Signal().String()
	}
	return nil
}

func (l *launcher) logStderr(p *proc, r io.ReadCloser) {
	defer r.Close()
	br := bufio.NewReaderSize(r, maxLogLineBytes)
	for {
		line, isPrefix, err := br.ReadLine()
		if len(line) > 0 || (err == nil && !isPrefix) {
			l.mu.Lock()
			session := p.session
			l.mu.Unlock()
			l.log("info", string(line), map[string]any{"stdio": map[string]any{"pid": p.pid, "process": p.id, "session": session, "truncated": isPrefix}})
			for isPrefix && err == nil { // the rest of an overlong line is dropped
				_, isPrefix, err = br.ReadLine()
			}
		}
		if err != nil {
			return
		}
	}
}

// log writes one JSON line to the launcher's stderr (the container log), in pino's shape.
func (l *launcher) log(level, msg string, fields map[string]any) {
	rec := map[string]any{"level": level, "time": time.Now().UnixMilli(), "name": "portcullis-launcher", "msg": msg}
	for k, v := range fields {
		rec[k] = v
	}
	b, _ := json.Marshal(rec)
	l.stderrMu.Lock()
	defer l.stderrMu.Unlock()
	_, _ = os.Stderr.Write(append(b, '\n'))
}

// install copies the running launcher to dest (read and execute only), through a temporary file
// renamed into place so that a restarted init container never leaves half a binary.
func install(dest string) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	in, err := os.Open(self)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp := dest + ".tmp"
	out, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o555)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, dest)
}
