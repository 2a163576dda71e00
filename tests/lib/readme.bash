# The README's questions to the store ("Questions the store answers"), as a
# shell script asking store $1: sourced by the tests that run them
# (tests/demo.bats on the demo's store, tests/alarm-db.bats on merged ones).
readme_store_queries() {
    awk '/^Questions the store answers/ { on = 1; next } on && /^```$/ { n++; if (n == 2) exit; next }
         on && n == 1 { print }' "$ROOT/README.md" | sed "s#runs/demo/alarm.db#$1#g"
}
