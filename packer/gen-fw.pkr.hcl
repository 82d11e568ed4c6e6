# Bakes the gen-fw firewall into an AMI. Walk-through: docs/image.md.
#   packer init packer/                        (Packer 1.7+: fetches the amazon plugin)
#   packer build -only='amazon-ebs.ubuntu' packer/
#   sudo packer build -only='null.rehearsal' packer/   (local: a debootstrapped root)

locals {
  project_dir = var.project_dir != "" ? var.project_dir : "${path.root}/.."
  timestamp   = regex_replace(timestamp(), "[- TZ:]", "")
  # On the build instance: build/firewall is uploaded into this directory (as
  # <remote_dir>/firewall) and the directory removed after install.sh.
  remote_dir = "/tmp/gen-fw-upload"
}

source "amazon-ebs" "ubuntu" {
  region        = var.region
  instance_type = var.instance_type
  ssh_username  = var.ssh_username
  ami_name      = "${var.ami_name_prefix}-${local.timestamp}"

  source_ami_filter {
    filters = {
      name                = var.source_ami_name
      root-device-type    = "ebs"
      virtualization-type = "hvm"
    }
    owners      = var.source_ami_owners
    most_recent = true
  }

  tags = {
    Name      = "${var.ami_name_prefix}-${local.timestamp}"
    Firewall  = "gen-fw"
    SourceAMI = "{{ .SourceAMI }}"
  }
}

# A local rehearsal: the same bundle, baked into a Debian root on this machine by
# packer/rehearse.sh, which then boots it in a scratch network namespace and runs the
# drift check there. Needs root (sudo packer build ...), debootstrap and util-linux.
source "null" "rehearsal" {
  communicator = "none"
}

build {
  sources = ["source.amazon-ebs.ubuntu", "source.null.rehearsal"]

  # Render on the machine that runs Packer.
  provisioner "shell-local" {
    inline = [
      # The firewall's own unit tests run before anything is baked (when the project has them).
      "cd '${local.project_dir}' && if [ -f expectations.yaml ]; then ${var.gen_fw} verify expectations.yaml; fi",
      "cd '${local.project_dir}' && ${var.gen_fw} render --out build/firewall",
    ]
  }

  provisioner "shell" {
    only   = ["amazon-ebs.ubuntu"]
    inline = ["rm -rf ${local.remote_dir}", "mkdir -p ${local.remote_dir}"]
  }

  provisioner "file" {
    only        = ["amazon-ebs.ubuntu"]
    source      = "${local.project_dir}/build/firewall"
    destination = "${local.remote_dir}"
    generated   = true # rendered by the step above, not there yet when Packer starts
  }

  provisioner "shell" {
    only = ["amazon-ebs.ubuntu"]
    inline = [
      # cloud-init may still be running apt on first boot.
      "if command -v cloud-init >/dev/null 2>&1; then sudo cloud-init status --wait >/dev/null || true; fi",
      "sudo sh ${local.remote_dir}/firewall/install.sh",
      "rm -rf ${local.remote_dir}",
    ]
  }

  provisioner "shell-local" {
    only = ["null.rehearsal"]
    inline = [
      "sh '${path.root}/rehearse.sh' '${local.project_dir}/build/firewall' '${var.rehearsal_root}' '${var.rehearsal_suite}' '${var.rehearsal_mirror}'",
    ]
  }
}
