# Plugins for Packer 1.7 and later (`packer init packer/` downloads them once).
# Kept in a file of its own: Packer 1.6 (Debian's) has the amazon-ebs and null builders
# built in and does not know required_plugins, so it validates the other files alone.
packer {
  required_version = ">= 1.7.0"
  required_plugins {
    amazon = {
      version = ">= 1.2.0"
      source  = "github.com/hashicorp/amazon"
    }
  }
}
