#!/bin/sh
# After a failed ctest run: for each test that failed, its name and the
# lines of its output that say why (FAIL, error, ...), at most 15 each,
# read from ctest's own log. `make test` prints this last, so that the
# end of a long log (what CI keeps) says why, not only which.
#   sh scripts/test-failures.sh BUILD_DIR
set -u
LOG=${1:?usage: test-failures.sh BUILD_DIR}/Testing/Temporary/LastTest.log
[ -r "$LOG" ] || exit 0
echo
echo "---- why the failed tests failed (from $LOG) ----"
awk '
    /^[0-9]+\/[0-9]+ Testing: / { name = $3; n = 0; delete keep; next }
    /^<end of output>/ { inout = 0; next }
    /^Output:/ { inout = 1; next }
    inout && /(FAIL|[Ff]ailed|[Ee]rror|ERROR|[Aa]ssert|[Tt]imeout|[Tt]imed out|Sanitizer|not ok)/ {
        if (n < 15) keep[++n] = $0
        next
    }
    /^Test Failed\./ {
        print "-- " name
        for (i = 1; i <= n; i++) print "   " substr(keep[i], 1, 300)
        if (n == 0) print "   (no line of its output says FAIL or error: see its whole output above)"
    }
' "$LOG"
