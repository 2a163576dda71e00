# Sourced by the benchmarks: the "small" shape (V 8192, C 256, 6 layers, 8
# heads, 256 positions) with random weights and a byte-level tokenizer
# trained on generated text in $out/m, and 64 prompts of 4 to 67 tokens in
# $out/prompts. Needs $out, $BUILD.
pkgs="sqlite3 libcjson libcurl openblas libpcre2-8 icu-uc"
${CC:-cc} -O2 -fopenmp -Icommon -o "$out/gen-model" tests/bench/gen-model.c "$BUILD/libalarm.a" \
    $(pkg-config --libs $pkgs) -lm
"$out/gen-model" "$out/m" 8192 256 6 8 256
awk 'BEGIN { srand(1); for (i = 0; i < 3000; i++) { s = ""; for (j = 0; j < 40; j++) {
    w = " "; n = 2 + int(rand() * 6); for (k = 0; k < n; k++) w = w sprintf("%c", 97 + int(rand() * rand() * 26))
    s = s w }; printf "{\"text\":\"%s\"}\n", s } }' >"$out/corpus"
"$BUILD/bin/alarm-model" train-tokenizer -q --vocab-size 8192 --min-frequency 1 --out "$out/m" "$out/corpus"
awk 'BEGIN { for (i = 0; i < 64; i++) { n = 4 + (i * 37) % 64; s = ""; for (j = 0; j < n; j++)
    s = s "x"; printf "{\"id\":\"q%d\",\"prompt\":\"%s\"}\n", i, s } }' >"$out/prompts"
