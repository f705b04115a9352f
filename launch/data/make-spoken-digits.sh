#!/usr/bin/env bash
# Synthesises the spoken-digits data set with Debian's espeak-ng (apt-get install espeak-ng):
# the English words zero..nine said by many synthetic speakers, as 16-bit mono WAV files
# (22,050 Hz, espeak-ng's rate) in the layout the `spoken-digits` data set reads:
#
#   OUT_DIR/train/<digit>/<accent>_<variant>_s<speed>_p<pitch>.wav
#   OUT_DIR/test/<digit>/...
#
#   launch/data/make-spoken-digits.sh OUT_DIR        (e.g. /var/tmp/swiftddp-data/spoken-digits)
#
# A speaker is an accent (an espeak-ng English voice) with a voice variant (espeak-ng's
# +m1, +f2, +klatt, ...). The split is by speaker and held out twice over: test speakers use
# accents AND variants that no training speaker uses, so test accuracy is on unseen voices.
# Each speaker says every digit at every speed (-s, words per minute) and pitch (-p, 0-99).
# The output is deterministic (espeak-ng is); OUT_DIR/recipe.txt records the recipe.
set -euo pipefail
out=${1:?"usage: $0 OUT_DIR"}
command -v espeak-ng >/dev/null || { echo "$0: espeak-ng not found (apt-get install espeak-ng)" >&2; exit 2; }

train_accents=(en en-us en-gb-scotland en-gb-x-rp en-gb-x-gbclan en-029)
test_accents=(en-us-nyc en-gb-x-gbcwmd)
train_variants=(m1 m2 m3 m4 m5 m6 m8 f1 f2 f3 f4 adam Alex Alicia Andrea Andy antonio aunty belinda benjamin caleb david
                Denis Diogo ed edward Gene gustave Henrique Hugo iven john Lee linda marcelo Marco max Michael michel
                miguel Mike pablo paul pedro steph norbert sandro anika)
# No test variant shares a family with a training one (steph/steph2, edward/edward2, grandpa/grandma, ...).
test_variants=(m7 f5 Annie grandma boris quincy robert travis victor zac)
speeds=(130 175 220)
pitches=(35 65)
words=(zero one two three four five six seven eight nine)

synthesise() { # split, accents (name of array), variants (name of array)
  local split=$1; local -n accents=$2; local -n variants=$3
  local count=0
  for d in "${!words[@]}"; do mkdir -p "$out/$split/$d"; done
  for a in "${accents[@]}"; do
    for v in "${variants[@]}"; do
      for s in "${speeds[@]}"; do
        for p in "${pitches[@]}"; do
          for d in "${!words[@]}"; do
            espeak-ng -v "$a+$v" -s "$s" -p "$p" -w "$out/$split/$d/${a}_${v}_s${s}_p${p}.wav" "${words[$d]}"
            count=$((count + 1))
          done
        done
      done
    done
  done
  echo "$split: $count files (${#accents[@]} accents x ${#variants[@]} variants x ${#speeds[@]} speeds x ${#pitches[@]} pitches x 10 digits)"
}

mkdir -p "$out"
rm -rf "$out/train" "$out/test"
{
  echo "spoken-digits, synthesised by launch/data/make-spoken-digits.sh with $(espeak-ng --version | head -1)"
  echo "train accents: ${train_accents[*]}"
  echo "train variants: ${train_variants[*]}"
  echo "test accents: ${test_accents[*]}"
  echo "test variants: ${test_variants[*]}"
  echo "speeds (words/min): ${speeds[*]}; pitches: ${pitches[*]}"
  synthesise train train_accents train_variants
  synthesise test test_accents test_variants
} | tee "$out/recipe.txt"
