package main

import (
	"io"

	"github.com/sirupsen/logrus"
)

// newLogger builds the daemon's logger. format and level were validated.
func newLogger(format, level string, out io.Writer) *logrus.Entry {
	lg := logrus.New()
	lg.SetOutput(out)
	if format == "json" {
		lg.SetFormatter(&logrus.JSONFormatter{TimestampFormat: "2006-01-02T15:04:05.000Z07:00"})
	} else {
		lg.SetFormatter(&logrus.TextFormatter{FullTimestamp: true, TimestampFormat: "15:04:05.000"})
	}
	lvl, err := logrus.ParseLevel(level)
	if err != nil {
		lvl = logrus.InfoLevel
	}
	lg.SetLevel(lvl)
	return logrus.NewEntry(lg)
}
