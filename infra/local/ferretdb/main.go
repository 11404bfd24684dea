// Command codestep-ferretdb runs FerretDB v1 with its SQLite backend as a
// MongoDB-wire server for codestep's tests and local development.
//
// It exists because a plain `go install` of FerretDB's own CLI is not a
// supported way to build it and yields a binary that fails at start (upstream
// issue #2982), while the embeddable package `ferretdb` is a documented API
// that builds cleanly from the module proxy. It also lets us drop the
// PostgreSQL backend at build time (tag ferretdb_no_postgresql).
//
// It is started and stopped by infra/local/ferretdb.sh; SIGINT/SIGTERM close
// the listener and the SQLite databases cleanly.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"syscall"

	"github.com/FerretDB/FerretDB/build/version"
	"github.com/FerretDB/FerretDB/ferretdb"
)

// ferretDBModule is the module whose version buildInfo should report.
const ferretDBModule = "github.com/FerretDB/FerretDB"

// reportModuleVersion fills in the FerretDB version from our build info:
// release builds embed a generated version.txt that module builds lack, so
// without this `buildInfo` answers "unknown" and logs can't tell versions apart.
func reportModuleVersion() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	for _, dep := range info.Deps {
		if dep.Path == ferretDBModule {
			version.Get().Version = dep.Version
			return dep.Version
		}
	}
	return "unknown"
}

func main() {
	listen := flag.String("listen-addr", "127.0.0.1:27018", "TCP address to listen on")
	dataDir := flag.String("sqlite-dir", "", "directory holding one SQLite file per database (required)")
	logLevel := flag.String("log-level", "info", "debug, info, warn or error")
	flag.Parse()

	if *dataDir == "" {
		fmt.Fprintln(os.Stderr, "codestep-ferretdb: -sqlite-dir is required")
		os.Exit(2)
	}

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(os.Stderr, "codestep-ferretdb: bad -log-level %q: %v\n", *logLevel, err)
		os.Exit(2)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	dir, err := filepath.Abs(*dataDir)
	if err != nil {
		logger.Error("cannot resolve data directory", "dir", *dataDir, "error", err)
		os.Exit(1)
	}
	if err = os.MkdirAll(dir, 0o755); err != nil {
		logger.Error("cannot create data directory", "dir", dir, "error", err)
		os.Exit(1)
	}

	// FerretDB's SQLite URL must be a directory URI ending with a slash;
	// each MongoDB database becomes one <name>.sqlite file inside it.
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: *listen},
		Logger:    logger,
		Handler:   "sqlite",
		SQLiteURL: "file:" + dir + "/",
	})
	if err != nil {
		logger.Error("cannot start FerretDB", "error", err)
		os.Exit(1)
	}

	ferretVersion := reportModuleVersion()

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	logger.Info("codestep-ferretdb listening", "addr", *listen, "sqlite", dir, "ferretdb", ferretVersion)

	if err = f.Run(ctx); err != nil {
		logger.Error("FerretDB stopped with an error", "error", err)
		os.Exit(1)
	}

	logger.Info("codestep-ferretdb stopped")
}
