// Package pionlog sends the logs of Pion's libraries (WebRTC, ICE, TURN) to
// log/slog.
package pionlog

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/pion/logging"
)

// Factory sends Pion's logs to slog, one level lower: Pion warns
// about every stray packet and closed socket, which is routine for a server.
type Factory struct{ Log *slog.Logger }

// NewLogger implements logging.LoggerFactory.
func (f Factory) NewLogger(scope string) logging.LeveledLogger {
	return pionLogger{log: f.Log.With("pion", scope)}
}

type pionLogger struct{ log *slog.Logger }

func (l pionLogger) logf(level slog.Level, format string, args ...any) {
	if l.log.Enabled(context.Background(), level) {
		l.log.Log(context.Background(), level, fmt.Sprintf(format, args...))
	}
}

func (l pionLogger) Trace(string)                   {}
func (l pionLogger) Tracef(string, ...any)          {}
func (l pionLogger) Debug(msg string)               { l.log.Debug(msg) }
func (l pionLogger) Debugf(format string, a ...any) { l.logf(slog.LevelDebug, format, a...) }
func (l pionLogger) Info(msg string)                { l.log.Debug(msg) }
func (l pionLogger) Infof(format string, a ...any)  { l.logf(slog.LevelDebug, format, a...) }
func (l pionLogger) Warn(msg string)                { l.log.Debug(msg) }
func (l pionLogger) Warnf(format string, a ...any)  { l.logf(slog.LevelDebug, format, a...) }
func (l pionLogger) Error(msg string)               { l.log.Warn(msg) }
func (l pionLogger) Errorf(format string, a ...any) { l.logf(slog.LevelWarn, format, a...) }
