module berth.local/images/probe

go 1.24
