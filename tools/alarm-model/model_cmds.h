/* The subcommands of alarm-model, one file each in tools/alarm-model/.
 * Each gets argv starting at the subcommand name and returns an exit code
 * (0 ok, 1 failure, 2 usage). */
#ifndef ALARM_MODEL_CMDS_H
#define ALARM_MODEL_CMDS_H

int model_cmd_info(int argc, char **argv);
int model_cmd_tokenize(int argc, char **argv);
int model_cmd_train_tokenizer(int argc, char **argv);
int model_cmd_logprobs(int argc, char **argv);
int model_cmd_bench(int argc, char **argv);
int model_cmd_merge_lora(int argc, char **argv);

#endif
