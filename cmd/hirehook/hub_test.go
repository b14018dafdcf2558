package main

import "github.com/hirehook/hirehook/internal/hub"

// The tests of this package start hubs (package hub) next to the commands
// they drive; these names keep them short.
type (
	Hub         = hub.Hub
	Config      = hub.Config
	ConfigError = hub.ConfigError
)

var (
	NewHub        = hub.New
	DefaultConfig = hub.DefaultConfig
	keyFilePath   = hub.KeyFilePath
	openPostgres  = hub.OpenPostgres
)
