# SPDX-License-Identifier: LGPL-2.1-or-later
# NFS-Ganesha's configuration for the tests that serve nfsprovd's shares over NFSv3 (FSAL VFS,
# NFSv3 over TCP only, on 127.0.0.1, ports 2049 and 20048), sourced by client-nfs3.sh and
# nfsprovd-guard-nfs.sh.
#
# ganesha_config DIR ID:PATH[:ACCESS[:SQUASH]]...: the configuration on stdout; DIR holds its
# recovery/ and run/ directories; ACCESS defaults to RW, SQUASH to No_Root_Squash.
ganesha_config() {
    local dir=$1 spec id path access squash
    shift
    cat <<EOT
NFS_CORE_PARAM {
    Protocols = 3; Bind_Addr = 127.0.0.1; NFS_Port = 2049; MNT_Port = 20048;
    Enable_NLM = false; Enable_RQUOTA = false; Enable_UDP = false;
}
NFSv4 { RecoveryRoot = $dir/recovery; Graceless = true; }
NFS_KRB5 { Active_krb5 = false; CCacheDir = $dir/run; }
LOG { Default_Log_Level = EVENT; }
EOT
    for spec in "$@"; do
        IFS=: read -r id path access squash <<< "$spec"
        cat <<EOT
EXPORT {
    Export_Id = $id; Path = $path; Pseudo = $path;
    Access_Type = ${access:-RW}; Squash = ${squash:-No_Root_Squash};
    Attr_Expiration_Time = 0; Protocols = 3; Transports = TCP; SecType = sys;
    FSAL { Name = VFS; }
}
EOT
    done
}
