# demo-eval.jq: one evaluated system's answers (jq -s, --arg system NAME) as
# the mean of each reward over its records; null for a reward none has.
def mean(f): map(f | select(. != null)) | if length > 0 then add / length else null end;
{system: $system, n: length,
 quality: mean(.rewards.quality.value), factuality: mean(.rewards.factuality.value),
 relevance: mean(.rewards.relevance.value), completeness: mean(.rewards.completeness.value),
 holistic: mean(.rewards.holistic.raw // .rewards.holistic.value),
 length: mean(.rewards.length.value), repetition: mean(.rewards.repetition.value)}
