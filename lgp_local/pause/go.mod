module lgp.dev/pause

go 1.21
