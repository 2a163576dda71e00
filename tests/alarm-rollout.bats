#!/usr/bin/env bats
# alarm-rollout: rollout records as alarm-formats(5) section 2 says, the same
# bytes whatever the batch, shards that add up to the whole, prompt
# truncation, the checkpoint's generation defaults, and usage errors.

setup() {
    ROOT="$(cd "$BATS_TEST_DIRNAME/.." && pwd)"
    PATH="${ALARM_TEST_BUILD:-$ROOT/build}/bin:$PATH"
    M="$ROOT/tests/fixtures/tfm/lm_gpt2_tok"
    P="$ROOT/data/rollout-prompts.jsonl"
    T="$BATS_TEST_TMPDIR"
}

@test "records carry every input field and the rollout fields, spans covering the response" {
    alarm-rollout --model "$M" -n 3 --max-new-tokens 12 "$P" >"$T/r.jsonl"
    [ "$(wc -l <"$T/r.jsonl")" -eq 18 ]
    # ids, order, kept fields
    [ "$(jq -r '.id' "$T/r.jsonl" | head -4 | tr '\n' ' ')" = "p0#0 p0#1 p0#2 p1#0 " ]
    jq -e -s 'map(select(.prompt_id == "p1")) | length == 3 and all(.meta.topic == "geo")' "$T/r.jsonl"
    jq -e -s 'map(select(.prompt_id == "p4")) | all(.reference == "about 3 km")' "$T/r.jsonl"
    # every record: lengths agree, spans non-decreasing and covering the response bytes,
    # an EOS last with the empty span at the end, a finite logprob <= 0 per token
    jq -e -s 'all(.[];
        (.response | utf8bytelength) as $n
        | (.response_tokens | length) == (.offsets | length)
        and (.logprobs | length) == (.response_tokens | length)
        and (.offsets[0][0] // 0) == 0
        and ([.offsets[] | .[1]] | last // 0) == $n
        and ([range(1; .offsets | length) as $i | .offsets[$i][0] == .offsets[$i - 1][1]] | all)
        and (.logprobs | all(. <= 0))
        and (.finish == "length" or (.finish == "eos" and .response_tokens[-1] == 0
             and .offsets[-1] == [$n, $n]))
        and (.finish == "eos" or (.response_tokens | length) == 12)
        and .policy != null and .seed == 42 and (.prompt_tokens | length) > 0)' "$T/r.jsonl"
}

@test "the same seed gives the same bytes whatever --batch; another seed does not" {
    for b in 1 2 5 16; do
        alarm-rollout --model "$M" -n 3 --batch "$b" --max-new-tokens 20 "$P" | md5sum
    done | sort -u >"$T/sums"
    [ "$(wc -l <"$T/sums")" -eq 1 ]
    run bash -c "alarm-rollout --model '$M' -n 3 --seed 7 --max-new-tokens 20 '$P' | md5sum"
    [ "$output" != "$(cat "$T/sums")" ]
}

@test "shards add up to the unsharded run" {
    alarm-rollout --model "$M" -n 2 --max-new-tokens 10 "$P" | sort >"$T/all"
    for i in 0 1 2; do alarm-rollout --model "$M" -n 2 --max-new-tokens 10 --shard "$i/3" "$P"; done |
        sort >"$T/shards"
    cmp "$T/all" "$T/shards"
    # split by prompt id (tools/lib/shard.h): the first 8 bytes of SHA-256(id) mod N,
    # as python3 -c "import hashlib; print(int(hashlib.sha256(b'p4').hexdigest()[:16], 16) % 3)" says
    [ "$(alarm-rollout --model "$M" --max-new-tokens 4 --shard 0/3 "$P" | jq -r .prompt_id | tr '\n' ' ')" = "p1 " ]
    [ "$(alarm-rollout --model "$M" --max-new-tokens 4 --shard 2/3 "$P" | jq -r .prompt_id | tr '\n' ' ')" = "p4 " ]
}

@test "--no-eos samples the full length; --greedy equals temperature 0 and top-k 1" {
    alarm-rollout --model "$M" --no-eos -n 2 --max-new-tokens 15 "$P" >"$T/n"
    jq -e -s 'all(.[]; .finish == "length" and (.response_tokens | length) == 15)' "$T/n"
    alarm-rollout --model "$M" --greedy --max-new-tokens 15 "$P" | jq -c .response_tokens >"$T/g"
    alarm-rollout --model "$M" --temperature 0 --max-new-tokens 15 "$P" | jq -c .response_tokens >"$T/t0"
    alarm-rollout --model "$M" --top-k 1 --max-new-tokens 15 "$P" | jq -c .response_tokens >"$T/k1"
    cmp "$T/g" "$T/t0"
    cmp "$T/g" "$T/k1"
    # one kept token: its probability under the distribution used is 1
    alarm-rollout --model "$M" --top-k 1 --max-new-tokens 15 "$P" | jq -e -s 'all(.[]; .logprobs | all(. == 0))'
}

@test "a prompt too long fails naming file, line, id and lengths; left keeps its end" {
    printf '{"id":"ok","prompt":"x"}\n{"id":"long","prompt":"%s answer:"}\n' "$(printf 'word %.0s' $(seq 1 80))" >"$T/p"
    run alarm-rollout --model "$M" --max-new-tokens 8 "$T/p"
    [ "$status" -eq 1 ]
    [[ "$output" == *"$T/p:2: id \"long\": "*"exceed"* ]] || { echo "$output"; return 1; }
    run alarm-rollout --model "$M" --max-new-tokens 8 --max-prompt-tokens 20 --truncate-prompt left "$T/p"
    [ "$status" -eq 0 ]
    echo "$output" | jq -e -s '.[1].prompt_tokens | length == 20'
    # the kept tokens are the prompt's last ones
    full=$(echo '{"text":" answer:"}' | alarm-model tokenize --tokenizer "$M" | jq -c '.ids')
    echo "$output" | jq -e -s --argjson want "$full" '.[1].prompt_tokens[-($want | length):] == $want'
}

@test "generation_config.json sets the defaults; options override it" {
    cp -r "$M" "$T/m"
    # do_sample false: greedy, the same bytes as --greedy on the bare checkpoint but the policy
    echo '{"do_sample": false, "max_new_tokens": 6}' >"$T/m/generation_config.json"
    alarm-rollout --model "$T/m" "$P" | jq -c 'del(.policy)' >"$T/a"
    alarm-rollout --model "$M" --greedy --max-new-tokens 6 "$P" | jq -c 'del(.policy)' >"$T/g"
    cmp "$T/a" "$T/g"
    # a list of EOS ids: any of them ends a response
    echo '{"do_sample": true, "max_new_tokens": 30, "eos_token_id": [0, 3, 5, 7, 9]}' \
        >"$T/m/generation_config.json"
    alarm-rollout --model "$T/m" -n 4 "$P" >"$T/e"
    jq -e -s 'all(.[]; (.response_tokens | length) <= 30 and
        (.finish == "length" or (.response_tokens[-1] | IN(0, 3, 5, 7, 9))) and
        (.response_tokens[:-1] | all(IN(0, 3, 5, 7, 9) | not)))' "$T/e"
    jq -e -s 'map(select(.finish == "eos")) | length > 0' "$T/e"
    run bash -c "alarm-rollout --model '$T/m' --max-new-tokens 9 --no-eos '$P' | jq -s 'map(.response_tokens | length) | unique'"
    [ "$output" = "[
  9
]" ]
    # a sampling option samples even though the file says greedy
    alarm-rollout --model "$T/m" -n 4 --temperature 1 "$P" | jq -c .response_tokens | sort -u | wc -l >"$T/k"
    [ "$(cat "$T/k")" -gt 6 ]
    echo '{"top_k": 1.5}' >"$T/m/generation_config.json"
    run alarm-rollout --model "$T/m" "$P"
    [ "$status" -eq 1 ]
    [[ "$output" == *"generation_config.json: field \"top_k\": expected an integer"* ]]
}

@test "usage errors exit 2; bad records exit 1 naming file and line" {
    run alarm-rollout "$P"
    [ "$status" -eq 2 ]
    run alarm-rollout --model "$M" --greedy --temperature 0.5 "$P"
    [ "$status" -eq 2 ]
    run alarm-rollout --model "$M" --shard 3/3 "$P"
    [ "$status" -eq 2 ]
    run alarm-rollout --model "$M" --top-p 1.5 "$P"
    [ "$status" -eq 2 ]
    printf '{"id":"a","prompt":"x"}\n{"prompt":"y"}\n' >"$T/bad"
    run alarm-rollout --model "$M" "$T/bad"
    [ "$status" -eq 1 ]
    [[ "$output" == *"$T/bad:2: field \"id\": missing"* ]]
}

@test "--db records the run, its prompts and rollouts; a failed run keeps only whole prompts" {
    alarm-rollout --db "$T/s.db" -n 2 --max-new-tokens 6 --model "$M" "$P" >"$T/out"
    q() { sqlite3 "$T/s.db" "$1"; }
    [ "$(q "SELECT tool || ' ' || status FROM runs")" = "alarm-rollout ok" ]
    [ "$(q "SELECT count(*) FROM prompts")" -eq 6 ]
    [ "$(q "SELECT meta FROM prompts WHERE id = 'p1'")" = '{"topic":"geo"}' ]
    [ "$(q "SELECT reference FROM prompts WHERE id = 'p4'")" = "about 3 km" ]
    diff <(q "SELECT id, finish, length(CAST(response AS BLOB)), response_tokens, offsets FROM rollouts ORDER BY rowid") \
         <(jq -r '[.id, .finish, (.response | utf8bytelength), (.response_tokens | tojson), (.offsets | tojson)] | join("|")' "$T/out")
    # a bad record on line 5: the run fails, and every prompt stored has both samples
    { head -n 4 "$P"; echo '{"id": "bad"}'; tail -n 1 "$P"; } >"$T/p"
    run alarm-rollout --db "$T/s.db" --batch 1 -n 2 --max-new-tokens 6 --model "$M" "$T/p"
    [ "$status" -eq 1 ]
    [ "$(q "SELECT status FROM runs WHERE id = 2")" = failed ]
    [[ "$(q "SELECT message FROM runs WHERE id = 2")" == *'p:5: field "prompt": missing'* ]]
    [ "$(q "SELECT count(*) FROM (SELECT prompt_id FROM rollouts WHERE run_id = 2 GROUP BY prompt_id HAVING count(*) != 2)")" -eq 0 ]
    [ "$(q "SELECT count(*) FROM prompts p WHERE run_id = 2 AND NOT EXISTS (SELECT 1 FROM rollouts r WHERE r.run_id = 2 AND r.prompt_id = p.id)")" -eq 0 ]
}
