package main

import "github.com/vsched/vsched/internal/usageplot"

// usageSeries and plotMark are what --plot records (internal/usageplot).
type (
	usageSeries = usageplot.Series
	plotMark    = usageplot.Mark
)

// writeUsagePlot has the separate vsched-plot program draw s to path as
// SVG: the plotting library is not linked into vsched.
func writeUsagePlot(path string, s usageSeries) error { return usageplot.Write(path, s) }
