# Sourced by the appliance scripts: puts Swift on PATH where this kind of machine keeps it.
if ! command -v swift >/dev/null 2>&1 && [[ -x /opt/swift/usr/bin/swift ]]; then
  export PATH="/opt/swift/usr/bin:$PATH"
fi
