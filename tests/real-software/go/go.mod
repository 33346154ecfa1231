module archway.test/goprobe

go 1.19
