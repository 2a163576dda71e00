# mt-pairs.jq: translation pairs, one "SOURCE<TAB>REFERENCE" a line, as
# prompt records (alarm-formats(5) section 1) asking for the translation
# into $target:
#   jq -R -c --arg target English -f pipelines/mt-pairs.jq pairs.tsv
# A line without a tab is skipped; the id is the line's number.
split("\t") | select(length >= 2)
| {id: "mt-\(input_line_number)", prompt: "Translate into \($target): \(.[0])\n\($target):",
   reference: (" " + .[1]), meta: {source: .[0]}}
