package store

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed migrations/*.sql
var migrations embed.FS

func (s *Store) migrate(ctx context.Context, log *slog.Logger) error {
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	dialect := goose.DialectSQLite3
	var opts []goose.ProviderOption
	if s.engine == Postgres {
		dialect = goose.DialectPostgres
		// Nodes starting together would otherwise race to apply the same
		// migration. The advisory lock makes the others wait, polling every
		// second (goose's default of 5 s slows every start), for up to 10
		// minutes, long enough for a slow migration.
		locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 600))
		if err != nil {
			return err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	p, err := goose.NewProvider(dialect, s.db, fsys, opts...)
	if err != nil {
		return err
	}
	// p.Close would close s.db: the provider is simply dropped.
	results, err := p.Up(ctx)
	if err != nil {
		return err
	}
	for _, r := range results {
		if r.Error != nil {
			return fmt.Errorf("%s: %w", r.Source.Path, r.Error)
		}
		log.Info("database migrated", "migration", r.Source.Path, "duration", r.Duration)
	}
	return nil
}
