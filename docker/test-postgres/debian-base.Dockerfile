# A Debian bookworm base image made from a debootstrap tree (no registry needed):
# scripts/test-images runs `debootstrap --variant=minbase bookworm` and builds this with the
# tree's tarball as the only file in the build context.
FROM scratch
ADD bookworm-minbase.tar /
ENV LANG=C.UTF-8
CMD ["bash"]
