package task

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// checkTarget dispatches on the target's engine.
func checkTarget(ctx context.Context, r *checkRecorder, i int, te *TargetEndpoint) {
	switch {
	case te.EngineName == EngineKinesis && te.KinesisSettings != nil:
		checkKinesisTarget(ctx, r, te)
	case te.EngineName == EngineS3 && te.S3Settings != nil:
		checkS3Target(ctx, r, te)
	case te.EngineName == EngineFile && te.FileSettings != nil:
		checkFileTarget(ctx, r, te.FileSettings.Path)
	default:
		r.endpoint = fmt.Sprintf("target %d (%s)", i, te.EngineName)
		r.fail("settings", "no settings for engine "+te.EngineName)
	}
}

// checkFileTarget checks that the JSON-lines file can be opened for
// appending, without changing it: the file target does not create
// directories, so the directory must exist.
func checkFileTarget(ctx context.Context, r *checkRecorder, path string) {
	r.endpoint = "target file:" + path
	r.run(ctx, "file writable", func(context.Context) (string, error) {
		st, err := os.Stat(path)
		switch {
		case err == nil && st.IsDir():
			return "", fmt.Errorf("%s is a directory", path)
		case err == nil:
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				return "", fmt.Errorf("cannot append: %w", checkUnwrapPath(err))
			}
			if err := f.Close(); err != nil {
				return "", fmt.Errorf("closing %s: %w", path, err)
			}
			return fmt.Sprintf("exists (%d bytes); records are appended", st.Size()), nil
		case !checkNotExist(err):
			return "", err
		}
		dir := filepath.Dir(path)
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			if err == nil {
				return "", fmt.Errorf("%s is not a directory", dir)
			}
			return "", fmt.Errorf("directory %s: %w (sluice run does not create it)", dir, checkUnwrapPath(err))
		}
		if _, err := checkDirWritable(dir, false); err != nil {
			return "", err
		}
		return "does not exist yet; " + dir + " is writable", nil
	})
}

// checkDirWritable checks that dir exists and a file can be created in it
// (the probe file is removed at once). With mayCreate, a missing dir is
// fine when its nearest existing ancestor is writable: sluice creates it.
func checkDirWritable(dir string, mayCreate bool) (string, error) {
	existing := dir
	for {
		st, err := os.Stat(existing)
		if err == nil {
			if !st.IsDir() {
				return "", fmt.Errorf("%s is not a directory", existing)
			}
			break
		}
		if !checkNotExist(err) {
			return "", err
		}
		if !mayCreate {
			return "", fmt.Errorf("directory %s does not exist", dir)
		}
		parent := filepath.Dir(existing)
		if parent == existing {
			return "", err
		}
		existing = parent
	}
	f, err := os.CreateTemp(existing, ".sluice-check-*")
	if err != nil {
		return "", fmt.Errorf("cannot create files in %s: %w", existing, checkUnwrapPath(err))
	}
	name := f.Name()
	f.Close()
	if err := os.Remove(name); err != nil {
		return "", fmt.Errorf("removing probe file: %w", err)
	}
	if existing != dir {
		return fmt.Sprintf("does not exist yet; %s is writable, so sluice run can create it", existing), nil
	}
	return "exists and is writable", nil
}

// checkNotExist reports a path that does not exist, also because one of
// its parents is a file.
func checkNotExist(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

// checkUnwrapPath drops the path and operation of a *fs.PathError when the
// message already names the file.
func checkUnwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// checkStateLocation checks where checkpoints are kept: a writable local
// directory, or a listable bucket. It says whether a checkpoint is there,
// which tells whether sluice run will start afresh or resume.
func checkStateLocation(ctx context.Context, r *checkRecorder, loc string) {
	r.endpoint = "state " + loc
	if dir, ok := strings.CutPrefix(loc, "file://"); ok {
		r.run(ctx, "directory writable", func(context.Context) (string, error) {
			detail, err := checkDirWritable(dir, true)
			if err != nil {
				return "", err
			}
			return detail + checkCheckpointNote(checkFileExists(filepath.Join(dir, CheckpointFileName))), nil
		})
		return
	}
	rest := strings.TrimPrefix(loc, "s3://")
	bucket, prefix, _ := strings.Cut(rest, "/")
	r.run(ctx, "bucket listable", func(ctx context.Context) (string, error) {
		// Like the state store, follow AWS_ENDPOINT_URL_S3 path-style.
		ep := os.Getenv("AWS_ENDPOINT_URL_S3")
		if ep == "" {
			ep = os.Getenv("AWS_ENDPOINT_URL")
		}
		b, err := newCheckBucket(ctx, bucket, "", ep)
		if err != nil {
			return "", err
		}
		want := checkJoinKey(prefix) + CheckpointFileName
		key, err := b.first(ctx, want)
		if err != nil {
			return "", err
		}
		return "bucket " + bucket + " is listable" + checkCheckpointNote(key == want), nil
	})
}

func checkFileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func checkCheckpointNote(found bool) string {
	if found {
		return "; a checkpoint is there: sluice run resumes from it"
	}
	return "; no checkpoint yet: sluice run starts the task afresh"
}
