package s3parquet

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// spoolName is the directory inside a file:// bucket where files are
// written before they are renamed into place (same file system, so the
// rename is atomic and nothing is copied). Its dot keeps it out of the
// way of table folders.
const spoolName = ".sluice-spool"

// dirStore is a local directory acting as the bucket (BucketName
// "file:///abs/dir"): keys are slash-separated paths below root.
type dirStore struct {
	root string
}

func newDirStore(bucket string) (*dirStore, error) {
	dir := strings.TrimPrefix(bucket, "file://")
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("resolving %s: %w", bucket, err)
	}
	if err := os.MkdirAll(filepath.Join(abs, spoolName), 0o755); err != nil {
		return nil, fmt.Errorf("preparing local bucket %s: %w", abs, err)
	}
	return &dirStore{root: abs}, nil
}

func (d *dirStore) spoolDir() string { return filepath.Join(d.root, spoolName) }

// put makes the spool file durable and renames it into place: readers see
// either nothing or the whole file.
func (d *dirStore) put(_ context.Context, key string, f *os.File, size int64) error {
	dst := filepath.Join(d.root, filepath.FromSlash(key))
	if err := f.Sync(); err != nil {
		return fmt.Errorf("syncing %s: %w", f.Name(), err)
	}
	dir := filepath.Dir(dst)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	if err := os.Rename(f.Name(), dst); err != nil {
		// A retry after the rename succeeded but the directory sync failed.
		st, serr := os.Stat(dst)
		if !errors.Is(err, fs.ErrNotExist) || serr != nil || st.Size() != size {
			return fmt.Errorf("moving %s into place: %w", key, err)
		}
	}
	// The rename is durable only once the directory entry is.
	df, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("opening %s: %w", dir, err)
	}
	defer df.Close()
	if err := df.Sync(); err != nil {
		return fmt.Errorf("syncing %s: %w", dir, err)
	}
	return nil
}

func (d *dirStore) names(_ context.Context, prefix string) ([]string, error) {
	ents, err := os.ReadDir(filepath.Join(d.root, filepath.FromSlash(prefix)))
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", prefix, err)
	}
	var out []string
	for _, e := range ents {
		if !e.IsDir() {
			out = append(out, e.Name())
		}
	}
	return out, nil
}
