module eddy.test/gonode

go 1.19
