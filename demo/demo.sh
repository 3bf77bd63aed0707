#!/usr/bin/env bash
# The whole story, end to end, on this machine: three keyholders (each with
# their own home, standing for three offline machines), a coordinator, a
# 2-of-3 DKG, a release packed and co-signed (one round carried only as QR
# PNG frames), verified against a pinned policy and by stock tools, then
# carried in an airgap tarball to a disconnected host that verifies and imports it.
#
# Run by `make demo`.  Everything is written under demo-out/.
set -euo pipefail
cd "$(dirname "$0")/.."
CT="$PWD/.venv/bin/ct"
OUT="$PWD/demo-out"
rm -rf "$OUT"
mkdir -p "$OUT"
cd "$OUT"

# Passphrases come from the environment for this demo (a keyholder types them
# at a prompt, or uses --passphrase-file).  Key files are sealed with the
# default Argon2id parameters (64 MiB, t=3, p=4).
export CT_PASSPHRASE="demo passphrase, never use it"
unset CT_TESTING CT_HOME

step() { printf '\n== %s\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }
run_brief() { printf '$ %s\n' "$*"; "$@" | tail -n 2; }   # the keyholder's summary is shown once, in full
members=(alice bob carol)

step "1. each keyholder makes identity keys on their own offline machine (Ed25519 + X25519 + ML-DSA-87)"
for m in "${members[@]}"; do
  run "$CT" --home "home-$m" keygen --id "$m"
  cp "home-$m/keys/$m.pub" .
done

step "2. the coordinator opens a 2-of-3 DKG for the cooperative"
run "$CT" ceremony keygen --threshold 2 --name cooperative \
    --member alice.pub --member bob.pub --member carol.pub -o kg-0-request.ctm

step "3. four rounds cross the air gap; each keyholder checks the fingerprint words and answers"
msg=kg-0-request.ctm
for r in 1 2 3 4; do
  for m in "${members[@]}"; do
    if [ "$m" = alice ]; then   # alice's screen in full: what she approves
      run "$CT" --home "home-$m" ceremony step "$msg" --yes -o "kg-$r-$m.ctm"
    else
      run_brief "$CT" --home "home-$m" ceremony step "$msg" --yes -o "kg-$r-$m.ctm"
    fi
  done
  next="kg-$r-next.ctm"
  [ "$r" = 4 ] && next=keyholders.json
  extra=()
  [ "$r" = 4 ] && extra=(--transcript kg-transcript.ctm)
  run "$CT" ceremony collect "$msg" kg-$r-alice.ctm kg-$r-bob.ctm kg-$r-carol.ctm -o "$next" "${extra[@]}"
  msg="$next"
done

step "4. a verifier pins the cooperative's root keyholder set"
run "$CT" policy init --root keyholders.json --policy policy.json

step "5. the release manager packs a real artifact: this project's source tarball"
if git -C .. rev-parse HEAD >/dev/null 2>&1; then
  git -C .. archive --format=tar.gz --prefix=cerro-torre/ -o "$OUT/cerro-torre-src.tar.gz" HEAD
else
  tar -C .. -czf cerro-torre-src.tar.gz --exclude=.venv --exclude=demo-out suites ceremony offline cli README.md
fi
run "$CT" pack cerro-torre-src.tar.gz -o release.ctp --name cerro-torre --version 0.1.0

step "6. signing ceremony: alice and bob co-sign (carol stays offline)"
run "$CT" ceremony sign release.ctp --group keyholders.json --signer alice --signer bob -o sg-0-request.ctm
run "$CT" --home home-alice ceremony step sg-0-request.ctm --yes -o sg-1-alice.ctm
run_brief "$CT" --home home-bob ceremony step sg-0-request.ctm --yes -o sg-1-bob.ctm
run "$CT" ceremony collect sg-0-request.ctm sg-1-alice.ctm sg-1-bob.ctm -o sg-1-package.ctm

step "7. round two crosses the air gap only as QR codes (FROST shares + ML-DSA-87 signatures)"
for m in alice bob; do
  run_brief "$CT" --home "home-$m" ceremony step sg-1-package.ctm --yes -o "sg-2-$m.ctm"
  run "$CT" qr encode "sg-2-$m.ctm" -o "qr-$m"
  rm "sg-2-$m.ctm"                       # only the PNG frames cross
  run "$CT" qr decode qr-"$m"/*.png -o "sg-2-$m-scanned.ctm"
done
run "$CT" ceremony collect sg-1-package.ctm sg-2-alice-scanned.ctm sg-2-bob-scanned.ctm -o sg-2-package2.ctm

step "8. second pass: minisign's trusted comment is co-signed"
for m in alice bob; do
  run_brief "$CT" --home "home-$m" ceremony step sg-2-package2.ctm --yes -o "sg-3-$m.ctm"
done
run "$CT" ceremony collect sg-2-package2.ctm sg-3-alice.ctm sg-3-bob.ctm --bundle release.ctp \
    -o release-signed.ctp --transcript sg-transcript.ctm

step "9. anyone verifies the release against the pinned policy (the verifier's home remembers the epoch it saw)"
run "$CT" --home home-verifier verify release-signed.ctp --policy policy.json
run "$CT" --home home-verifier explain release-signed.ctp --signers --policy policy.json

step "10. the group signature also verifies with stock tools (OpenBSD signify, minisign, OpenSSH)"
run "$CT" --home home-verifier signature export release-signed.ctp --policy policy.json --format all -o stock
(cd stock && ls)
cd stock
run signify-openbsd -V -p release-signed.signify.pub -x release-signed.statement.json.sig -m release-signed.statement.json
run minisign -V -p release-signed.minisign.pub -x release-signed.statement.json.minisig -m release-signed.statement.json
printf '$ ssh-keygen -Y verify ... < release-signed.statement.json\n'
ssh-keygen -Y verify -f release-signed.allowed_signers -I cerro-torre -n cerro-torre-release \
    -s release-signed.statement.json.sshsig < release-signed.statement.json
cd ..

step "11. the signing ceremony's transcript, every message hash-chained"
run "$CT" ceremony status --transcript sg-transcript.ctm

step "12. carry the release to a disconnected host: an airgap tarball with the keyholder chain, policy and public keys"
run "$CT" export release-signed.ctp -o airgap.tar --include-keys --policy policy.json --verify-after-write

step "13. on the disconnected host (a fresh home): verify everything, then import; the policy's roots get pinned"
run "$CT" --home home-host import airgap.tar --verify --policy policy.json
run "$CT" --home home-host store list
run "$CT" --home home-host import airgap.tar --verify      # again: uses the pinned trust, changes nothing

printf '\ndemo finished: everything is in demo-out/\n'
