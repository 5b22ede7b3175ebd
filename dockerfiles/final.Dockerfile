# ---- final -------------------------------------------------------------------
# nss "unknown" answers for any uid that /etc/passwd does not list, as
# "uid-<N>" with home $NSS_UNKNOWN_HOME, so `id -un`, ssh and getpwuid()
# work for any --user without a writable /etc/passwd or an entrypoint. At
# run time ai-sandbox also mounts a generated /etc/passwd naming the user;
# "files" is asked first, so that name wins. (An image built FROM this one
# that installs packages creating system users must take " unknown" out of
# /etc/nsswitch.conf for that step.)
# No setuid or setgid file or folder is left (the sandbox also runs with
# no-new-privileges and no capabilities; this removes the bits themselves),
# and the build's caches and helpers go. The build fails if a bit survives.
RUN set -eu; \
    sed -ri 's/^(passwd:[[:space:]].*)$/\1 unknown/' /etc/nsswitch.conf; \
    grep -Eq '^passwd:.*[[:space:]]unknown$' /etc/nsswitch.conf; \
    rm -rf /tmp/ai-sandbox-build /root/.npm /root/.cache /root/.config /tmp/* /var/tmp/*; \
    find / -xdev -perm /6000 \( -type f -o -type d \) -exec chmod ug-s {} +; \
    if find / -xdev -perm /6000 | grep .; then echo "setuid/setgid bits left" >&2; exit 1; fi; \
    if command -v sudo >/dev/null 2>&1; then echo "sudo must not be in the image" >&2; exit 1; fi
WORKDIR /home/agent
# No entrypoint of the base image's (node's docker-entrypoint.sh): the
# command runs as given, and ai-sandbox sets its own.
ENTRYPOINT []
# Not root when started without --user; ai-sandbox always passes the host
# user's uid:gid.
USER 65534:65534
CMD ["bash"]
