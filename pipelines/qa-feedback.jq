# qa-feedback.jq: QA-Feedback's JSON (an array of {text, question, answer,
# passages}, as FineGrainedRLHF publishes it) as prompt records
# (alarm-formats(5) section 1), one a line:
#   jq -c -f pipelines/qa-feedback.jq dev.json > prompts.jsonl
# prompt: the record's text (the question and the passages, as the paper's
# policy reads them) then " answer:"; reference: the first gold answer;
# meta: the question, and the passages' contents and wikipage titles (for the
# overlap scorer). The id is the record's position in the file.
to_entries[]
| .key as $k | .value as $r
| {id: "qaf-\($k)", prompt: ($r.text + " answer:"),
   reference: ([$r.answer] | flatten | .[0] // ""),
   meta: {question: $r.question, passages: [$r.passages[]?.content],
          titles: [$r.passages[]?.wikipage]}}
