#!/bin/sh
# Prints the two lines that make an existing, unchanged VDI client use vdisim:
#
#   eval "$(crates/libsqlvdi/vdisim-env.sh)"            # target/release
#   eval "$(crates/libsqlvdi/vdisim-env.sh debug)"      # target/debug
#
# LD_LIBRARY_PATH gets the directory of vdisim's libsqlvdi.so, PATH a directory whose
# `sqlcmd` is a symlink to the vdisim binary (created here if missing). Build first with
# `cargo build --release` (the vdisim binary and libsqlvdi.so).
set -eu
profile=${1:-release}
root=$(cd "$(dirname "$0")/../.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}/$profile
if [ ! -f "$target/libsqlvdi.so" ] || [ ! -x "$target/vdisim" ]; then
    echo "vdisim-env.sh: build first: cargo build $( [ "$profile" = release ] && echo --release )" >&2
    exit 1
fi
mkdir -p "$target/vdisim-path"
ln -sf "$target/vdisim" "$target/vdisim-path/sqlcmd"
echo "export LD_LIBRARY_PATH=\"$target\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}\""
echo "export PATH=\"$target/vdisim-path:\$PATH\""
