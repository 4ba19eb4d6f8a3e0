// The benchmark's Go upstream: grpc-go over HTTP/2 + mTLS, answering the
// same calls as bench/src/echo-upstream.ts (Echo returns the request message;
// Download streams chunk_count messages of chunk_bytes; WatchNotes stays open
// without a message), so that the gateway is measured against the Go-class
// service the performance issue specifies. Messages stay bytes: a pass-through
// codec registered as "proto" means no generated Go code is needed.
//
// Usage: go-upstream <ca.pem> <cert.pem> <key.pem>; prints "port <n>" once listening
// on 127.0.0.1.
package main

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"fmt"
	"io/ioutil"
	"net"
	"os"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/metadata"
)

// rawCodec hands message bytes through unchanged.
type rawCodec struct{}

func (rawCodec) Marshal(v interface{}) ([]byte, error) { return *(v.(*[]byte)), nil }
func (rawCodec) Unmarshal(data []byte, v interface{}) error {
	p := v.(*[]byte)
	*p = append((*p)[:0], data...)
	return nil
}
func (rawCodec) Name() string { return "proto" }

// downloadRequest reads DownloadRequest { uint32 chunk_count = 1; uint32 chunk_bytes = 2; }.
func downloadRequest(b []byte) (count, size uint64) {
	for len(b) > 0 {
		key, n := binary.Uvarint(b)
		if n <= 0 {
			return
		}
		b = b[n:]
		if key&7 != 0 {
			return // only varint fields are expected
		}
		v, m := binary.Uvarint(b)
		if m <= 0 {
			return
		}
		b = b[m:]
		switch key >> 3 {
		case 1:
			count = v
		case 2:
			size = v
		}
	}
	return
}

func handle(_ interface{}, stream grpc.ServerStream) error {
	method, _ := grpc.MethodFromServerStream(stream)
	var req []byte
	if err := stream.RecvMsg(&req); err != nil {
		return err
	}
	switch {
	case strings.HasSuffix(method, "/Download"):
		count, size := downloadRequest(req)
		// DownloadResponse { bytes data = 2 }, encoded once.
		msg := []byte{0x12}
		msg = binary.AppendUvarint(msg, size)
		msg = append(msg, make([]byte, size)...)
		for i := range msg[len(msg)-int(size):] {
			msg[len(msg)-int(size)+i] = 'a'
		}
		for i := uint64(0); i < count; i++ {
			if err := stream.SendMsg(&msg); err != nil {
				return err
			}
		}
		return nil
	case strings.HasSuffix(method, "/WatchNotes"):
		// Answer with headers at once (as the Node upstream does), then stay
		// open without a message until the caller goes away.
		if err := stream.SendHeader(metadata.MD{}); err != nil {
			return err
		}
		<-stream.Context().Done()
		return nil
	default:
		return stream.SendMsg(&req)
	}
}

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: go-upstream <ca.pem> <cert.pem> <key.pem>")
		os.Exit(2)
	}
	caPEM, err := ioutil.ReadFile(os.Args[1])
	if err != nil {
		panic(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		panic("no CA certificate in " + os.Args[1])
	}
	cert, err := tls.LoadX509KeyPair(os.Args[2], os.Args[3])
	if err != nil {
		panic(err)
	}
	creds := credentials.NewTLS(&tls.Config{
		Certificates: []tls.Certificate{cert},
		ClientCAs:    pool,
		ClientAuth:   tls.RequireAndVerifyClientCert,
		MinVersion:   tls.VersionTLS12,
	})
	encoding.RegisterCodec(rawCodec{})
	server := grpc.NewServer(
		grpc.Creds(creds),
		grpc.UnknownServiceHandler(handle),
		grpc.MaxConcurrentStreams(20000),
		grpc.MaxRecvMsgSize(64<<20),
		grpc.MaxSendMsgSize(64<<20),
	)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	fmt.Printf("port %d\n", lis.Addr().(*net.TCPAddr).Port)
	if err := server.Serve(lis); err != nil {
		panic(err)
	}
}
