#!/usr/bin/env bash
# The whole story, end to end, on this machine: three keyholders (each with
# their own home, standing for three offline machines), a coordinator, a
# 2-of-3 DKG, a release packed and co-signed (one round, both directions,
# carried only as QR codes filmed as video and scanned), verified against a
# pinned policy and by stock tools, then carried in an airgap tarball to a
# disconnected host that verifies and imports it; then attached to its image
# in a local OCI registry (docker-registry on 127.0.0.1) and verified by
# reference, its SBOM and provenance written out, its payload
# verified-then-unpacked and checked by signify -C against the group-signed
# SHA256SUMS; then a rotation removes a member, and a release the old set
# signs afterwards is refused; then a keep-key rotation replaces a member who
# lost a machine without changing the group key, and signify verifies the next
# release with the public key its users had pinned before.
#
# Run by `make demo`.  Everything is written under demo-out/.
set -euo pipefail
cd "$(dirname "$0")/.."
CT="$PWD/.venv/bin/ct"
PY="$PWD/.venv/bin/python"
FILM="$PWD/demo/qr_video.py"   # a screen filmed by a camera: the PNG frames as a video (OpenCV)
OUT="$PWD/demo-out"
rm -rf "$OUT"
mkdir -p "$OUT"
cd "$OUT"

# Passphrases come from the environment for this demo (a keyholder types them
# at a prompt, or uses --passphrase-file).  Key files are sealed with the
# default Argon2id parameters (64 MiB, t=3, p=4).
export CT_PASSPHRASE="demo passphrase, never use it"
unset CT_TESTING
export CT_HOME="$OUT/home-coordinator"   # the coordinator's and verifier's home, not this machine's default

step() { printf '\n== %s\n' "$*"; }
# a local OCI registry for steps 5 and 14: docker-registry on 127.0.0.1, plain HTTP (localhost only)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p registry
cat > registry/config.yml <<YAML
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $OUT/registry/storage}}
http: {addr: 127.0.0.1:$port}
YAML
/usr/bin/docker-registry serve registry/config.yml > registry/registry.log 2>&1 &
registry_pid=$!
trap 'kill "$registry_pid" 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  python3 -c "import urllib.request as u; u.urlopen('http://127.0.0.1:$port/v2/', timeout=1)" 2>/dev/null && break
  sleep 0.1
done

run() { printf '$ %s\n' "$*"; "$@"; }
run_brief() { printf '$ %s\n' "$*"; "$@" | tail -n 2; }   # the keyholder's summary is shown once, in full
members=(alice bob carol)

sign3() {   # sign3 BUNDLE SIGNED A B GROUP...: a three-round signing (stock forms) by members A and B
  local bundle=$1 signed=$2 a=$3 b=$4; shift 4
  local groups=() g
  for g in "$@"; do groups+=(--group "$g"); done
  local p=${signed%.ctp}
  run "$CT" ceremony sign "$bundle" "${groups[@]}" --signer "$a" --signer "$b" -o "$p-0.ctm"
  local msg=$p-0.ctm r m next extra
  for r in 1 2 3; do
    for m in "$a" "$b"; do
      run_brief "$CT" --home "home-$m" ceremony step "$msg" --yes -o "$p-$r-$m.ctm"
    done
    next="$p-$r.ctm"; extra=()
    [ "$r" = 3 ] && next=$signed && extra=(--bundle "$bundle")
    run "$CT" ceremony collect "$msg" "$p-$r-$a.ctm" "$p-$r-$b.ctm" -o "$next" "${extra[@]}"
    msg=$next
  done
}

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

step "4. the record reaches every keyholder: each home checks it is the one it confirmed, and keeps it"
for m in "${members[@]}"; do
  run "$CT" --home "home-$m" ceremony step keyholders.json
done

step "4b. a verifier pins the cooperative's root keyholder set"
run "$CT" policy init --root keyholders.json --policy policy.json

step "5. the release manager packs a real artifact: this project's source tarball"
if git -C .. rev-parse HEAD >/dev/null 2>&1; then
  git -C .. archive --format=tar.gz --prefix=cerro-torre/ -o "$OUT/cerro-torre-src.tar.gz" HEAD
else
  tar -C .. -czf cerro-torre-src.tar.gz --exclude=.venv --exclude=demo-out suites ceremony offline cli README.md
fi
IMAGE="127.0.0.1:$port/cerro-torre/app:0.1.0"
python3 ../demo/make_image.py image 0.1.0 "$IMAGE" cerro-torre-src.tar.gz   # an OCI image holding it
run "$CT" pack cerro-torre-src.tar.gz oci:image:0.1.0 -o release.ctp --name cerro-torre --version 0.1.0
run skopeo copy --quiet --preserve-digests --dest-tls-verify=false oci:image:0.1.0 "docker://$IMAGE"  # published

step "6. signing ceremony: alice and bob co-sign (carol stays offline)"
run "$CT" ceremony sign release.ctp --group keyholders.json --signer alice --signer bob -o sg-0-request.ctm
run "$CT" --home home-alice ceremony step sg-0-request.ctm --yes -o sg-1-alice.ctm
run_brief "$CT" --home home-bob ceremony step sg-0-request.ctm --yes -o sg-1-bob.ctm
run "$CT" ceremony collect sg-0-request.ctm sg-1-alice.ctm sg-1-bob.ctm -o sg-1-package.ctm

step "7. round two crosses the air gap both ways only as QR codes, filmed and scanned (FROST shares + ML-DSA-87)"
# the coordinator's screen shows the package as fountain-coded frames; a camera films them
run "$CT" qr encode sg-1-package.ctm -o qr-package
run "$PY" "$FILM" qr-package -o qr-package.avi --shuffle --repeat 2 --scale 0.6:0.8 --blur 1 --noise 6 --drop 0.2
for m in alice bob; do
  run "$CT" qr scan --video qr-package.avi -o "sg-1-package-$m.ctm"   # on the keyholder's machine
  run_brief "$CT" --home "home-$m" ceremony step "sg-1-package-$m.ctm" --yes -o "sg-2-$m.ctm"
  run "$CT" qr encode "sg-2-$m.ctm" -o "qr-$m"
  run "$PY" "$FILM" "qr-$m" -o "qr-$m.avi" --shuffle --repeat 2 --scale 0.6:0.8 --blur 1 --noise 6 --drop 0.2
  rm "sg-2-$m.ctm" "sg-1-package-$m.ctm"   # only the films crossed
  run "$CT" qr scan --video "qr-$m.avi" -o "sg-2-$m-scanned.ctm"   # on the coordinator's machine
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

step "14. the release in a registry (a local OCI registry, docker-registry on 127.0.0.1)"
run "$CT" push release-signed.ctp "$IMAGE" --attach          # attached to the image by its digest
run "$CT" verify "docker://$IMAGE" --policy policy.json     # finds the bundle, checks the image's digests
run "$CT" fetch "$IMAGE" -o fetched.ctp
REF="127.0.0.1:$port/cerro-torre/release:0.1.0"
run "$CT" push release-signed.ctp "$REF"                     # or as an artifact of its own
run skopeo inspect --raw --tls-verify=false "docker://$REF"
echo
python3 ../demo/make_image.py other 0.1.0 "$IMAGE" policy.json    # another image, same tag
skopeo copy --quiet --dest-tls-verify=false oci:other:0.1.0 "docker://$IMAGE"
printf '$ %s\n' "$CT verify docker://$IMAGE --policy policy.json   # someone moved the tag to another image"
if "$CT" verify "docker://$IMAGE" --policy policy.json; then echo "UNEXPECTED: accepted"; exit 1; else echo "(exit $?: refused)"; fi
cmp release-signed.ctp fetched.ctp && echo "fetched.ctp is byte-identical to release-signed.ctp"

step "15. the attestations the ceremony signed (SPDX 2.3 SBOM, SLSA provenance), then verify-and-unpack"
run "$CT" attestations fetched.ctp -o attestations --policy policy.json
run "$CT" unpack fetched.ctp -o unpacked --policy policy.json
ls -R unpacked | head -8
run "$CT" signature export fetched.ctp --policy policy.json --format sha256sums -o unpacked
(cd unpacked && run signify-openbsd -C -p fetched.signify.pub -x SHA256SUMS.sig)
run skopeo inspect oci:unpacked/app-0.1.0:0.1.0             # the image artifact is an OCI layout skopeo loads

step "16. before anything else happens, an old backup of alice's home is kept (it will go rogue later)"
run cp -a home-alice home-alice-backup

step "17. a rotation: carol leaves the cooperative, dave joins; the release epoch 1 signed stays valid"
run "$CT" --home home-dave keygen --id dave
cp home-dave/keys/dave.pub .
run "$CT" ceremony rotate --group keyholders.json --remove carol --add dave.pub \
    --release release-signed.ctp -o rt-0-request.ctm
msg=rt-0-request.ctm
for r in 1 2 3 4; do
  for m in alice bob dave; do         # carol, removed, is optional: she does not answer
    if [ "$m" = alice ] && [ "$r" = 1 ]; then   # alice's screen in full: every field of the new record
      run "$CT" --home "home-$m" ceremony step "$msg" --yes -o "rt-$r-$m.ctm"
    else
      run_brief "$CT" --home "home-$m" ceremony step "$msg" --yes -o "rt-$r-$m.ctm"
    fi
  done
  next="rt-$r-next.ctm"
  [ "$r" = 4 ] && next=keyholders-2.json
  run "$CT" ceremony collect "$msg" rt-$r-alice.ctm rt-$r-bob.ctm rt-$r-dave.ctm -o "$next"
  msg="$next"
done

step "18. the new record reaches every keyholder: each home keeps it and retires its epoch-1 share"
for m in alice bob dave; do
  run "$CT" --home "home-$m" ceremony step keyholders-2.json
done

step "19. the verifier moves its trust forward; the release epoch 1 signed before the rotation still verifies"
run "$CT" policy add-checkpoint keyholders-2.json --policy policy.json
run "$CT" --home home-verifier verify release-signed.ctp --policy policy.json

step "20. carol (removed) and alice's old backup sign release 0.2.0 with epoch 1 (their homes never saw epoch 2)"
run "$CT" pack cerro-torre-src.tar.gz -o rogue.ctp --name cerro-torre --version 0.2.0
run "$CT" ceremony sign rogue.ctp --group keyholders.json --signer alice --signer carol --no-stock -o rg-0-request.ctm
for m in alice-backup carol; do
  run_brief "$CT" --home "home-$m" ceremony step rg-0-request.ctm --yes -o "rg-1-$m.ctm"
done
run "$CT" ceremony collect rg-0-request.ctm rg-1-alice-backup.ctm rg-1-carol.ctm -o rg-1-package.ctm
for m in alice-backup carol; do
  run_brief "$CT" --home "home-$m" ceremony step rg-1-package.ctm --yes -o "rg-2-$m.ctm"
done
run "$CT" ceremony collect rg-1-package.ctm rg-2-alice-backup.ctm rg-2-carol.ctm --bundle rogue.ctp -o rogue-signed.ctp

step "21. every verifier that knows epoch 2 refuses it: epoch 2 closed epoch 1 and does not list this release"
printf '$ %s\n' "$CT --home home-verifier verify rogue-signed.ctp --policy policy.json"
if "$CT" --home home-verifier verify rogue-signed.ctp --policy policy.json; then
  echo "demo: the old set's release was accepted" >&2
  exit 1
else
  printf '(exit %s, as it must)\n' "$?"
fi

step "22. epoch 2 (alice and dave) signs release 0.3.0; its users pin the group key in signify"
run "$CT" pack cerro-torre-src.tar.gz -o release3.ctp --name cerro-torre --version 0.3.0
sign3 release3.ctp release3-signed.ctp alice dave keyholders.json keyholders-2.json
run "$CT" signature export release3-signed.ctp --policy policy.json --format signify -o pinned

step "23. bob's laptop is lost (nothing suggests it was stolen): a keep-key rotation removes bob, adds erin"
run "$CT" --home home-erin keygen --id erin
cp home-erin/keys/erin.pub .
run "$CT" ceremony rotate --group keyholders-2.json --remove bob --add erin.pub --keep-key \
    --release release3-signed.ctp -o kk-0-request.ctm
run "$CT" ceremony script kk-0-request.ctm -o keep-key-ceremony.md   # the printable checklist of this ceremony
head -n 4 keep-key-ceremony.md
run "$CT" --home home-alice ceremony step kk-0-request.ctm --yes -o kk-1-alice.ctm   # alice deals her share anew
run_brief "$CT" --home home-dave ceremony step kk-0-request.ctm --yes -o kk-1-dave.ctm
run_brief "$CT" --home home-erin ceremony step kk-0-request.ctm                      # erin keeps it
run "$CT" ceremony collect kk-0-request.ctm kk-1-alice.ctm kk-1-dave.ctm -o kk-1-next.ctm
msg=kk-1-next.ctm
for r in 2 3; do
  for m in alice dave erin; do
    run_brief "$CT" --home "home-$m" ceremony step "$msg" --yes -o "kk-$r-$m.ctm"
  done
  next="kk-$r-next.ctm"
  [ "$r" = 3 ] && next=keyholders-3.json
  run "$CT" ceremony collect "$msg" kk-$r-alice.ctm kk-$r-dave.ctm kk-$r-erin.ctm -o "$next"
  msg="$next"
done
for m in alice dave erin; do
  run "$CT" --home "home-$m" ceremony step keyholders-3.json       # alice and dave delete their epoch-2 shares
done

step "24. epoch 3 (alice and erin) signs release 0.4.0; signify verifies it with the key pinned in step 22"
run "$CT" pack cerro-torre-src.tar.gz -o release4.ctp --name cerro-torre --version 0.4.0
sign3 release4.ctp release4-signed.ctp alice erin keyholders.json keyholders-2.json keyholders-3.json
run "$CT" verify release4-signed.ctp --policy policy.json
run "$CT" signature export release4-signed.ctp --policy policy.json --format signify -o stock4
run signify-openbsd -V -p pinned/release3-signed.signify.pub -x stock4/release4-signed.statement.json.sig \
    -m stock4/release4-signed.statement.json

printf '\ndemo finished: everything is in demo-out/\n'
