// The grid grammar, strategies, records and runner live in TVSearch (shared with TVDeMe); every
// user of TVSweep sees them without a second import.
@_exported import TVSearch
