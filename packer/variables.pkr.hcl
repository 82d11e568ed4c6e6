variable "region" {
  type        = string
  default     = "eu-west-1"
  description = "AWS region to build the AMI in."
}

variable "instance_type" {
  type        = string
  default     = "t3.micro"
  description = "EC2 instance type of the temporary build instance."
}

variable "source_ami_name" {
  type        = string
  default     = "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-*"
  description = "Name filter for the source AMI (the newest match is used). Ubuntu 24.04 LTS by default."
}

variable "source_ami_owners" {
  type        = list(string)
  default     = ["099720109477"]
  description = "Accounts allowed to own the source AMI (099720109477 is Canonical)."
}

variable "ssh_username" {
  type        = string
  default     = "ubuntu"
  description = "User Packer logs in as on the build instance (admin for Debian AMIs)."
}

variable "ami_name_prefix" {
  type        = string
  default     = "gen-fw"
  description = "The AMI is named <prefix>-<timestamp>."
}

variable "gen_fw" {
  type        = string
  default     = "npx --no-install gen-fw"
  description = "How to run gen-fw on the machine that runs Packer (in project_dir)."
}

variable "project_dir" {
  type        = string
  default     = ""
  description = "The directory with conf.d/ (and gen-fw.yaml); empty means the parent of packer/."
}

variable "rehearsal_root" {
  type        = string
  default     = "/var/tmp/gen-fw-rehearsal"
  description = "null.rehearsal: the Debian root to bake into (debootstrapped when missing)."
}

variable "rehearsal_suite" {
  type        = string
  default     = "bookworm"
  description = "null.rehearsal: the Debian suite debootstrap installs."
}

variable "rehearsal_mirror" {
  type        = string
  default     = "http://deb.debian.org/debian"
  description = "null.rehearsal: the Debian mirror debootstrap uses."
}
