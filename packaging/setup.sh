#!/bin/sh
# One-step set-up on Debian 12 (run as root): installs the Debian packages that are missing,
# builds with CMake + Ninja, then runs the main job (`demo`: the desktop app on the
# Fashion-MNIST demo project, or the headless demo when there is no display), every test
# (`test`), or builds the .deb and checks it with lintian (`deb`).
set -eu
cd "$(dirname "$0")/.."

PACKAGES="build-essential cmake ninja-build ccache pkg-config zlib1g-dev libstb-dev libturbojpeg0-dev libexif-dev \
libtorch-dev libgloo-dev libgoogle-glog-dev libopenblas0-openmp \
qt6-base-dev qt6-svg-dev libqt6sql6-sqlite qt6-tools-dev qt6-tools-dev-tools qt6-l10n-tools libqcustomplot-dev \
libonnx-dev libprotobuf-dev libboost-dev \
dataset-fashion-mnist xvfb xauth python3-torch python3-torchvision python3-onnx python3-opencv python3-pil \
help2man file lintian appstream desktop-file-utils"

missing=""
for p in $PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    echo "Installing:$missing"
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing
fi

cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build

case "${1:-demo}" in
demo)
    exec build/app/metaprune-studio --demo
    ;;
test)
    cd build
    exec ctest --output-on-failure --timeout 1200
    ;;
deb)
    cd build
    rm -f metaprune-studio_*.deb
    cpack -G DEB
    # Exits non-zero on any error; warnings, infos and pedantic tags are shown too.
    exec lintian --display-info --pedantic metaprune-studio_*.deb
    ;;
*)
    echo "usage: packaging/setup.sh [demo|test|deb]" >&2
    exit 2
    ;;
esac
