# What every pipeline Makefile here starts with: bash with pipefail (a
# failing stage of a pipe fails the recipe), no half-made target left
# behind, intermediate files kept (a rerun must not redo them), the tools of
# $(BUILD) first on PATH.
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
.DELETE_ON_ERROR:
.SECONDARY:
.SUFFIXES:

comma := ,
BUILD ?= build
export PATH := $(if $(filter /%,$(BUILD)),$(BUILD),$(CURDIR)/$(BUILD))/bin:$(PATH)
# Tools run one thread each under -j2 (two stages at once), else two.
THREADS ?= $(if $(filter -j%,$(MAKEFLAGS)),1,2)
# writes a target through a temporary file: a killed command leaves none
into = > $@.tmp && mv $@.tmp $@
