// The storage commands: the orchestrator runs them in a team's storage
// container to read how much the team stores and to set MinIO's own limit,
// so neither depends on the team's app telling the truth.
package main

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// printUsage prints the apparent size (st_size) of every regular file under
// dir, in bytes: what the team's objects weigh, comparable with the quota.
// Entries named in skip (relative to dir, e.g. MinIO's .minio.sys: its
// configuration, and deleted objects waiting in its trash) are left out.
// Files that vanish mid-walk (MinIO's temporary files) are skipped.
func printUsage(dir string, skip []string) error {
	if _, err := os.Stat(dir); err != nil {
		return err
	}
	skipped := map[string]bool{}
	for _, name := range skip {
		skipped[filepath.Join(dir, name)] = true
	}
	var total int64
	err := filepath.WalkDir(dir, func(path string, entry fs.DirEntry, err error) error {
		if skipped[path] {
			if entry != nil && entry.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if !entry.Type().IsRegular() {
			return nil
		}
		info, err := entry.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		total += info.Size()
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Println(total)
	return nil
}

// minioQuota sets a hard quota of `size` bytes on `bucket` through MinIO's
// admin API (PUT /minio/admin/v3/set-bucket-quota, as `mc quota set` does),
// signed with the root credentials MinIO itself was started with: they are in
// this container's environment, so they never travel on a command line.
//
// MinIO enforces it from its scanner's usage figures (cmd/bucket-quota.go:
// refused when usage + object size >= quota), which lag by a scan cycle: an
// object at least as large as the quota is refused at once, the total once the
// scanner has counted it. The app's own check is the exact one.
func minioQuota(endpoint, bucket, size string) error {
	bytesQuota, err := strconv.ParseUint(size, 10, 64)
	if err != nil || bytesQuota == 0 {
		return fmt.Errorf("quota %q must be a positive number of bytes", size)
	}
	access, secret := os.Getenv("MINIO_ROOT_USER"), os.Getenv("MINIO_ROOT_PASSWORD")
	if access == "" || secret == "" {
		return errors.New("MINIO_ROOT_USER and MINIO_ROOT_PASSWORD must be set (run this in the MinIO container)")
	}
	body, _ := json.Marshal(map[string]any{"quota": bytesQuota, "size": bytesQuota, "quotatype": "hard"})
	target, err := url.Parse(strings.TrimRight(endpoint, "/") + "/minio/admin/v3/set-bucket-quota?" + url.Values{"bucket": {bucket}}.Encode())
	if err != nil {
		return err
	}
	req, err := http.NewRequest(http.MethodPut, target.String(), bytes.NewReader(body))
	if err != nil {
		return err
	}
	signV4(req, body, access, secret, time.Now().UTC())
	res, err := (&http.Client{Timeout: timeout}).Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(res.Body, 500))
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("set-bucket-quota %s: %d %s", bucket, res.StatusCode, bytes.TrimSpace(answer))
	}
	return nil
}

// signV4 adds an AWS Signature Version 4 for service s3 in us-east-1 (MinIO's
// default region), the scheme MinIO checks on admin requests too.
func signV4(req *http.Request, body []byte, access, secret string, now time.Time) {
	const region, service = "us-east-1", "s3"
	day, stamp := now.Format("20060102"), now.Format("20060102T150405Z")
	payload := sha256Hex(body)
	req.Header.Set("X-Amz-Date", stamp)
	req.Header.Set("X-Amz-Content-Sha256", payload)
	const signed = "host;x-amz-content-sha256;x-amz-date"
	// url.Values.Encode sorts by key; S3 wants spaces as %20, never '+'.
	query := strings.ReplaceAll(req.URL.Query().Encode(), "+", "%20")
	canonical := strings.Join([]string{
		req.Method, req.URL.EscapedPath(), query,
		"host:" + req.URL.Host + "\nx-amz-content-sha256:" + payload + "\nx-amz-date:" + stamp + "\n",
		signed, payload,
	}, "\n")
	scope := day + "/" + region + "/" + service + "/aws4_request"
	toSign := "AWS4-HMAC-SHA256\n" + stamp + "\n" + scope + "\n" + sha256Hex([]byte(canonical))
	key := []byte("AWS4" + secret)
	for _, part := range []string{day, region, service, "aws4_request"} {
		key = hmacSHA256(key, part)
	}
	req.Header.Set("Authorization", fmt.Sprintf("AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s",
		access, scope, signed, hex.EncodeToString(hmacSHA256(key, toSign))))
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func hmacSHA256(key []byte, data string) []byte {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(data))
	return mac.Sum(nil)
}
