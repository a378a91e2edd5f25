// berth-probe is the health probe baked into every image Berth builds. The
// orchestrator runs it inside a container with `docker exec`, so a probe never
// needs a route from the host to a container's address (Berth only dials ports
// published on 127.0.0.1) and works in FROM scratch images that have no shell.
//
//	berth-probe http  <url>        2xx within the timeout
//	berth-probe mongo <host:port>  a MongoDB wire-protocol `ping` answers ok:1
//	berth-probe tcp   <host:port>  the port accepts a connection
//
// Exit 0 when healthy; otherwise exit 1 with one line on stderr saying why.
//
// Two more commands serve a team's storage quota (see storage.go):
//
//	berth-probe du <dir> [skip...]                  prints the bytes of the files under dir, except under dir/skip
//	berth-probe minio-quota <url> <bucket> <bytes>  sets a hard quota on a bucket of the MinIO at url
package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"time"
)

const timeout = 3 * time.Second

const usage = "usage: berth-probe http|mongo|tcp <target> | du <dir> [skip...] | minio-quota <url> <bucket> <bytes>"

func main() {
	commands := map[string]struct {
		min, max int
		run      func(args []string) error
	}{
		"http":        {1, 1, func(a []string) error { return probeHTTP(a[0]) }},
		"mongo":       {1, 1, func(a []string) error { return probeMongo(a[0]) }},
		"tcp":         {1, 1, func(a []string) error { return probeTCP(a[0]) }},
		"du":          {1, 9, func(a []string) error { return printUsage(a[0], a[1:]) }},
		"minio-quota": {3, 3, func(a []string) error { return minioQuota(a[0], a[1], a[2]) }},
	}
	if len(os.Args) < 2 {
		fail(errors.New(usage))
	}
	command, ok := commands[os.Args[1]]
	if !ok {
		fail(fmt.Errorf("unknown command %q (%s)", os.Args[1], usage))
	}
	if n := len(os.Args) - 2; n < command.min || n > command.max {
		fail(errors.New(usage))
	}
	if err := command.run(os.Args[2:]); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "berth-probe:", err)
	os.Exit(1)
}

func probeHTTP(url string) error {
	client := http.Client{Timeout: timeout}
	res, err := client.Get(url)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 200))
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return fmt.Errorf("GET %s: %d %s", url, res.StatusCode, bytes.TrimSpace(body))
	}
	return nil
}

func probeTCP(addr string) error {
	conn, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return err
	}
	return conn.Close()
}

// probeMongo sends {ping: 1, $db: "admin"} as an OP_MSG (opcode 2013), the
// message every MongoDB server since 3.6 and FerretDB understand.
func probeMongo(addr string) error {
	conn, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(timeout))

	doc := bsonDoc(func(b *bytes.Buffer) {
		b.WriteByte(0x10) // int32
		b.WriteString("ping\x00")
		_ = binary.Write(b, binary.LittleEndian, int32(1))
		b.WriteByte(0x02) // string
		b.WriteString("$db\x00")
		_ = binary.Write(b, binary.LittleEndian, int32(len("admin")+1))
		b.WriteString("admin\x00")
	})
	var msg bytes.Buffer
	_ = binary.Write(&msg, binary.LittleEndian, int32(16+4+1+len(doc))) // length
	_ = binary.Write(&msg, binary.LittleEndian, int32(1))               // requestID
	_ = binary.Write(&msg, binary.LittleEndian, int32(0))               // responseTo
	_ = binary.Write(&msg, binary.LittleEndian, int32(2013))            // OP_MSG
	_ = binary.Write(&msg, binary.LittleEndian, uint32(0))              // flagBits
	msg.WriteByte(0)                                                    // section kind 0: body
	msg.Write(doc)
	if _, err := conn.Write(msg.Bytes()); err != nil {
		return err
	}

	header := make([]byte, 16)
	if _, err := io.ReadFull(conn, header); err != nil {
		return fmt.Errorf("reading reply header: %w", err)
	}
	length := int(binary.LittleEndian.Uint32(header))
	if length < 21 || length > 16<<20 {
		return fmt.Errorf("reply length %d out of range", length)
	}
	rest := make([]byte, length-16)
	if _, err := io.ReadFull(conn, rest); err != nil {
		return fmt.Errorf("reading reply: %w", err)
	}
	if rest[4] != 0 {
		return errors.New("reply has no body section")
	}
	ok, err := bsonOK(rest[5:])
	if err != nil {
		return err
	}
	if !ok {
		return errors.New("ping answered ok: 0")
	}
	return nil
}

func bsonDoc(fill func(*bytes.Buffer)) []byte {
	var body bytes.Buffer
	fill(&body)
	body.WriteByte(0)
	out := make([]byte, 4, 4+body.Len())
	binary.LittleEndian.PutUint32(out, uint32(4+body.Len()))
	return append(out, body.Bytes()...)
}

// bsonOK walks the top-level elements of a BSON document and reports whether
// its "ok" field is 1. Only the element types a ping reply can hold are sized.
func bsonOK(doc []byte) (bool, error) {
	if len(doc) < 5 {
		return false, errors.New("reply document too short")
	}
	end := int(binary.LittleEndian.Uint32(doc))
	if end > len(doc) {
		return false, errors.New("reply document truncated")
	}
	i := 4
	for i < end-1 {
		kind := doc[i]
		i++
		nameEnd := bytes.IndexByte(doc[i:end], 0)
		if nameEnd < 0 {
			return false, errors.New("malformed element name")
		}
		name := string(doc[i : i+nameEnd])
		i += nameEnd + 1
		if name == "ok" {
			switch kind {
			case 0x01:
				return math.Float64frombits(binary.LittleEndian.Uint64(doc[i:])) == 1, nil
			case 0x10:
				return int32(binary.LittleEndian.Uint32(doc[i:])) == 1, nil
			case 0x12:
				return int64(binary.LittleEndian.Uint64(doc[i:])) == 1, nil
			}
			return false, fmt.Errorf("ok has BSON type %#x", kind)
		}
		size, err := bsonSize(kind, doc[i:end])
		if err != nil {
			return false, err
		}
		i += size
	}
	return false, errors.New("reply has no ok field")
}

func bsonSize(kind byte, b []byte) (int, error) {
	switch kind {
	case 0x01, 0x09, 0x11, 0x12:
		return 8, nil
	case 0x10:
		return 4, nil
	case 0x08:
		return 1, nil
	case 0x0A:
		return 0, nil
	case 0x07:
		return 12, nil
	case 0x13:
		return 16, nil
	case 0x02:
		return 4 + int(binary.LittleEndian.Uint32(b)), nil
	case 0x03, 0x04:
		return int(binary.LittleEndian.Uint32(b)), nil
	case 0x05:
		return 5 + int(binary.LittleEndian.Uint32(b)), nil
	}
	return 0, fmt.Errorf("unexpected BSON type %#x in reply", kind)
}
