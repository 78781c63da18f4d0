# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_debvault_global_optspecs
    string join \n root= config= json q/quiet v/verbose no-progress h/help V/version
end

function __fish_debvault_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_debvault_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_debvault_using_subcommand
    set -l cmd (__fish_debvault_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c debvault -n "__fish_debvault_needs_command" -l root -d 'Data root holding the database, blobs and publications [env: DEBVAULT_ROOT]' -r -F
complete -c debvault -n "__fish_debvault_needs_command" -l config -d 'Config file [env: DEBVAULT_CONFIG]' -r -F
complete -c debvault -n "__fish_debvault_needs_command" -l json -d 'Machine-readable JSON on stdout'
complete -c debvault -n "__fish_debvault_needs_command" -s q -l quiet -d 'No confirmations on stdout, no notes or progress on stderr (data, warnings and errors stay)'
complete -c debvault -n "__fish_debvault_needs_command" -s v -l verbose -d 'More detail on stderr (repeat for debug logs)'
complete -c debvault -n "__fish_debvault_needs_command" -l no-progress -d 'No progress bars (plain log lines)'
complete -c debvault -n "__fish_debvault_needs_command" -s h -l help -d 'Print help'
complete -c debvault -n "__fish_debvault_needs_command" -s V -l version -d 'Print version'
complete -c debvault -n "__fish_debvault_needs_command" -f -a "mirror" -d 'Create, inspect and sync mirrors of upstream suites'
complete -c debvault -n "__fish_debvault_needs_command" -f -a "repo" -d 'Local repositories of your own packages: create, add, remove, copy, move'
complete -c debvault -n "__fish_debvault_needs_command" -f -a "snapshot" -d 'Create, compare, combine and publish immutable snapshots'
complete -c debvault -n "__fish_debvault_needs_command" -f -a "publish" -d 'List, show and drop publications'
complete -c debvault -n "__fish_debvault_needs_command" -f -a "package" -d 'Find packages across mirrors and snapshots'
complete -c debvault -n "__fish_debvault_needs_command" -f -a "key" -d 'Generate, import, export and list signing keys'
complete -c debvault -n "__fish_debvault_needs_command" -f -a "apply" -d 'Create or update mirrors to match a declarative scope file'
complete -c debvault -n "__fish_debvault_needs_command" -f -a "freeze" -d 'Hold packages at their current version (no new versions, no removal)'
complete -c debvault -n "__fish_debvault_needs_command" -f -a "unfreeze" -d 'Lift freezes (--accept-new to take content upstream changed under the same version)'
complete -c debvault -n "__fish_debvault_needs_command" -f -a "staged" -d 'List or report changes that review-mode syncs staged'
complete -c debvault -n "__fish_debvault_needs_command" -f -a "promote" -d 'Make staged changes live'
complete -c debvault -n "__fish_debvault_needs_command" -f -a "advisories" -d 'Import security advisories (offline) and list the packages they affect'
complete -c debvault -n "__fish_debvault_needs_command" -f -a "reject" -d 'Refuse staged changes (later syncs do not stage them again)'
complete -c debvault -n "__fish_debvault_needs_command" -f -a "audit" -d 'Show the append-only trail of freezes, promotions, publishes, drops and key changes'
complete -c debvault -n "__fish_debvault_needs_command" -f -a "status" -d 'Health of mirrors, publications and storage (for people, cron and Prometheus)'
complete -c debvault -n "__fish_debvault_needs_command" -f -a "gc" -d 'Remove revisions, packages, blobs, trees and pool files nothing kept references'
complete -c debvault -n "__fish_debvault_needs_command" -f -a "verify" -d 'Check blobs and publications against the database; exit 3 on any difference'
complete -c debvault -n "__fish_debvault_needs_command" -f -a "db" -d 'Back the database up, or restore it'
complete -c debvault -n "__fish_debvault_needs_command" -f -a "serve" -d 'Serve published apt trees over HTTP (read-only), with `--api` the HTTP API for CI'
complete -c debvault -n "__fish_debvault_needs_command" -f -a "token" -d 'Create, list and revoke bearer tokens of the HTTP API'
complete -c debvault -n "__fish_debvault_needs_command" -f -a "config" -d 'Inspect the resolved configuration'
complete -c debvault -n "__fish_debvault_needs_command" -f -a "generate" -d 'Write man pages or shell completions (for packagers)'
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and not __fish_seen_subcommand_from create import-apt-sources list show edit drop rename sync fill" -l root -d 'Data root holding the database, blobs and publications [env: DEBVAULT_ROOT]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and not __fish_seen_subcommand_from create import-apt-sources list show edit drop rename sync fill" -l config -d 'Config file [env: DEBVAULT_CONFIG]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and not __fish_seen_subcommand_from create import-apt-sources list show edit drop rename sync fill" -l json -d 'Machine-readable JSON on stdout'
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and not __fish_seen_subcommand_from create import-apt-sources list show edit drop rename sync fill" -s q -l quiet -d 'No confirmations on stdout, no notes or progress on stderr (data, warnings and errors stay)'
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and not __fish_seen_subcommand_from create import-apt-sources list show edit drop rename sync fill" -s v -l verbose -d 'More detail on stderr (repeat for debug logs)'
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and not __fish_seen_subcommand_from create import-apt-sources list show edit drop rename sync fill" -l no-progress -d 'No progress bars (plain log lines)'
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and not __fish_seen_subcommand_from create import-apt-sources list show edit drop rename sync fill" -s h -l help -d 'Print help'
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and not __fish_seen_subcommand_from create import-apt-sources list show edit drop rename sync fill" -f -a "create" -d 'Create a mirror of one upstream suite'
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and not __fish_seen_subcommand_from create import-apt-sources list show edit drop rename sync fill" -f -a "import-apt-sources" -d 'Create one mirror per suite found in the machine\'s apt sources'
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and not __fish_seen_subcommand_from create import-apt-sources list show edit drop rename sync fill" -f -a "list" -d 'List mirrors'
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and not __fish_seen_subcommand_from create import-apt-sources list show edit drop rename sync fill" -f -a "show" -d 'Show one mirror'
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and not __fish_seen_subcommand_from create import-apt-sources list show edit drop rename sync fill" -f -a "edit" -d 'Change a mirror\'s settings (takes effect at the next sync)'
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and not __fish_seen_subcommand_from create import-apt-sources list show edit drop rename sync fill" -f -a "drop" -d 'Delete a mirror (its packages and blobs stay until `gc`)'
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and not __fish_seen_subcommand_from create import-apt-sources list show edit drop rename sync fill" -f -a "rename" -d 'Rename a mirror (its snapshots keep the name they recorded)'
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and not __fish_seen_subcommand_from create import-apt-sources list show edit drop rename sync fill" -f -a "sync" -d 'Bring mirrors up to date with their upstreams'
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and not __fish_seen_subcommand_from create import-apt-sources list show edit drop rename sync fill" -f -a "fill" -d 'Download every package file of a mirror\'s current revision not held yet (an on-demand mirror\'s, before upstream goes away)'
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from create" -l component -d 'Component to mirror, as the positional COMPONENTS; for a flat repository, the one its packages are published under (default: main)' -r
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from create" -l arch -d 'Architecture to mirror; repeat or comma-separate (default: the machine\'s)' -r
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from create" -l keyring -d 'Keyring (binary or armored) the Release signature must verify against; repeatable' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from create" -l filter -d 'Package filter, e.g. \'curl | git (>= 1:2.39) | Priority (required)\'' -r
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from create" -l languages -d 'Languages of the long descriptions to mirror, e.g. en,de,pt_BR (default: en; `none`: none)' -r
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from create" -l group -d 'Join a group of mirrors clients use together (a suite, its updates, its security suite): dependencies close over all members' -r
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from create" -l root -d 'Data root holding the database, blobs and publications [env: DEBVAULT_ROOT]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from create" -l config -d 'Config file [env: DEBVAULT_CONFIG]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from create" -l with-deps -d 'Also mirror the dependency closure (Depends, Pre-Depends) of the filtered packages'
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from create" -l follow-recommends -d 'Follow Recommends too when closing over dependencies'
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from create" -l follow-all-alternatives -d 'Pull in every alternative of `a | b` dependencies, not only the first satisfiable one'
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from create" -l allow-insecure -d 'Accept an unsigned or unverifiable Release (dangerous)'
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from create" -l allow-sha1-keys -d 'Accept upstream keys bound with SHA-1 signatures (never data signatures)'
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from create" -l review -d 'Review mode: syncs stage changes; `debvault promote` makes them live'
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from create" -l with-sources -d 'Also mirror the source packages of the selected binaries (for `apt-get source`)'
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from create" -l with-udebs -d 'Also mirror the Debian installer\'s packages (udebs): the same filter and dependency rules'
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from create" -l with-installer -d 'Also mirror the installer images (`installer-<arch>/current/images/`), each checked against `SHA256SUMS`'
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from create" -l with-appstream -d 'Also mirror the AppStream metadata (DEP-11) of the selected packages and its icons, for software centers'
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from create" -l on-demand -d 'Download no package file at sync: `serve` fetches (and keeps) each one from upstream when a client first asks for it; `mirror fill` fetches them all'
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from create" -l json -d 'Machine-readable JSON on stdout'
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from create" -s q -l quiet -d 'No confirmations on stdout, no notes or progress on stderr (data, warnings and errors stay)'
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from create" -s v -l verbose -d 'More detail on stderr (repeat for debug logs)'
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from create" -l no-progress -d 'No progress bars (plain log lines)'
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from create" -s h -l help -d 'Print help'
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from import-apt-sources" -l filter -d 'Package filter for every imported mirror' -r
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from import-apt-sources" -l arch -d 'Architectures (default: from the source, else the machine\'s)' -r
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from import-apt-sources" -l group -d 'The group the imported mirrors join: their dependencies close over all of them, as apt sees all sources at once' -r
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from import-apt-sources" -l root -d 'Data root holding the database, blobs and publications [env: DEBVAULT_ROOT]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from import-apt-sources" -l config -d 'Config file [env: DEBVAULT_CONFIG]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from import-apt-sources" -l with-deps -d 'Close over dependencies'
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from import-apt-sources" -l no-group -d 'Import the mirrors into no group'
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from import-apt-sources" -l dry-run -d 'Show what would be created, create nothing'
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from import-apt-sources" -l json -d 'Machine-readable JSON on stdout'
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from import-apt-sources" -s q -l quiet -d 'No confirmations on stdout, no notes or progress on stderr (data, warnings and errors stay)'
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from import-apt-sources" -s v -l verbose -d 'More detail on stderr (repeat for debug logs)'
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from import-apt-sources" -l no-progress -d 'No progress bars (plain log lines)'
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from import-apt-sources" -s h -l help -d 'Print help'
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from list" -l root -d 'Data root holding the database, blobs and publications [env: DEBVAULT_ROOT]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from list" -l config -d 'Config file [env: DEBVAULT_CONFIG]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from list" -l json -d 'Machine-readable JSON on stdout'
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from list" -s q -l quiet -d 'No confirmations on stdout, no notes or progress on stderr (data, warnings and errors stay)'
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from list" -s v -l verbose -d 'More detail on stderr (repeat for debug logs)'
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from list" -l no-progress -d 'No progress bars (plain log lines)'
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from show" -l root -d 'Data root holding the database, blobs and publications [env: DEBVAULT_ROOT]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from show" -l config -d 'Config file [env: DEBVAULT_CONFIG]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from show" -l with-packages -d 'Also list the packages of the current revision'
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from show" -l json -d 'Machine-readable JSON on stdout'
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from show" -s q -l quiet -d 'No confirmations on stdout, no notes or progress on stderr (data, warnings and errors stay)'
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from show" -s v -l verbose -d 'More detail on stderr (repeat for debug logs)'
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from show" -l no-progress -d 'No progress bars (plain log lines)'
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help'
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from edit" -l filter -d 'New filter' -r
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from edit" -l arch -d 'Replace the architectures' -r
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from edit" -l component -d 'Replace the components' -r
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from edit" -l keyring -d 'Replace the keyrings' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from edit" -l languages -d 'Replace the languages of the long descriptions (`none`: none)' -r
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from edit" -l group -d 'Join a group of mirrors clients use together' -r
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from edit" -l root -d 'Data root holding the database, blobs and publications [env: DEBVAULT_ROOT]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from edit" -l config -d 'Config file [env: DEBVAULT_CONFIG]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from edit" -l no-filter -d 'Remove the filter (mirror everything)'
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from edit" -l with-deps -d 'Close over dependencies'
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from edit" -l without-deps -d 'Do not close over dependencies'
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from edit" -l follow-all-alternatives -d 'Pull in every alternative of `a | b` dependencies'
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from edit" -l first-alternative-only -d 'Pull in only the first satisfiable alternative (the default)'
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from edit" -l review -d 'Review mode: syncs stage changes for `debvault promote`'
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from edit" -l no-review -d 'Leave review mode (changes go live at sync; staged ones stay until promoted or rejected)'
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from edit" -l with-sources -d 'Also mirror source packages'
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from edit" -l no-sources -d 'Stop mirroring source packages'
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from edit" -l with-udebs -d 'Also mirror the Debian installer\'s packages (udebs)'
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from edit" -l no-udebs -d 'Stop mirroring the installer\'s packages'
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from edit" -l with-installer -d 'Also mirror the installer images'
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from edit" -l no-installer -d 'Stop mirroring the installer images'
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from edit" -l with-appstream -d 'Also mirror AppStream metadata (DEP-11) and its icons'
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from edit" -l no-appstream -d 'Stop mirroring AppStream metadata'
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from edit" -l no-group -d 'Leave the group'
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from edit" -l on-demand -d 'Download package files on demand (see `mirror create --on-demand`)'
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from edit" -l no-on-demand -d 'Download every package file at sync again (`mirror fill` fetches those still missing)'
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from edit" -l json -d 'Machine-readable JSON on stdout'
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from edit" -s q -l quiet -d 'No confirmations on stdout, no notes or progress on stderr (data, warnings and errors stay)'
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from edit" -s v -l verbose -d 'More detail on stderr (repeat for debug logs)'
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from edit" -l no-progress -d 'No progress bars (plain log lines)'
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from edit" -s h -l help -d 'Print help'
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from drop" -l root -d 'Data root holding the database, blobs and publications [env: DEBVAULT_ROOT]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from drop" -l config -d 'Config file [env: DEBVAULT_CONFIG]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from drop" -l json -d 'Machine-readable JSON on stdout'
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from drop" -s q -l quiet -d 'No confirmations on stdout, no notes or progress on stderr (data, warnings and errors stay)'
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from drop" -s v -l verbose -d 'More detail on stderr (repeat for debug logs)'
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from drop" -l no-progress -d 'No progress bars (plain log lines)'
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from drop" -s h -l help -d 'Print help'
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from rename" -l root -d 'Data root holding the database, blobs and publications [env: DEBVAULT_ROOT]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from rename" -l config -d 'Config file [env: DEBVAULT_CONFIG]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from rename" -l json -d 'Machine-readable JSON on stdout'
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from rename" -s q -l quiet -d 'No confirmations on stdout, no notes or progress on stderr (data, warnings and errors stay)'
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from rename" -s v -l verbose -d 'More detail on stderr (repeat for debug logs)'
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from rename" -l no-progress -d 'No progress bars (plain log lines)'
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from rename" -s h -l help -d 'Print help'
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from sync" -l downloads -d 'Parallel downloads [env: DEBVAULT_DOWNLOADS] [default: 8]' -r
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from sync" -l root -d 'Data root holding the database, blobs and publications [env: DEBVAULT_ROOT]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from sync" -l config -d 'Config file [env: DEBVAULT_CONFIG]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from sync" -l all -d 'Sync every mirror'
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from sync" -l dry-run -d 'Compute and print the plan; change nothing'
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from sync" -l allow-mass-removal -d 'Remove packages even when more than `sync.mass-removal-percent` of a mirror would go'
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from sync" -l fetch-all -d 'Then download every package file the mirrors do not hold yet (on-demand mirrors leave them upstream; see `mirror fill`)'
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from sync" -l json -d 'Machine-readable JSON on stdout'
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from sync" -s q -l quiet -d 'No confirmations on stdout, no notes or progress on stderr (data, warnings and errors stay)'
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from sync" -s v -l verbose -d 'More detail on stderr (repeat for debug logs)'
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from sync" -l no-progress -d 'No progress bars (plain log lines)'
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from sync" -s h -l help -d 'Print help'
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from fill" -l downloads -d 'Parallel downloads [env: DEBVAULT_DOWNLOADS] [default: 8]' -r
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from fill" -l root -d 'Data root holding the database, blobs and publications [env: DEBVAULT_ROOT]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from fill" -l config -d 'Config file [env: DEBVAULT_CONFIG]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from fill" -l json -d 'Machine-readable JSON on stdout'
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from fill" -s q -l quiet -d 'No confirmations on stdout, no notes or progress on stderr (data, warnings and errors stay)'
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from fill" -s v -l verbose -d 'More detail on stderr (repeat for debug logs)'
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from fill" -l no-progress -d 'No progress bars (plain log lines)'
complete -c debvault -n "__fish_debvault_using_subcommand mirror; and __fish_seen_subcommand_from fill" -s h -l help -d 'Print help'
complete -c debvault -n "__fish_debvault_using_subcommand repo; and not __fish_seen_subcommand_from create edit include list show drop add remove copy move" -l root -d 'Data root holding the database, blobs and publications [env: DEBVAULT_ROOT]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand repo; and not __fish_seen_subcommand_from create edit include list show drop add remove copy move" -l config -d 'Config file [env: DEBVAULT_CONFIG]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand repo; and not __fish_seen_subcommand_from create edit include list show drop add remove copy move" -l json -d 'Machine-readable JSON on stdout'
complete -c debvault -n "__fish_debvault_using_subcommand repo; and not __fish_seen_subcommand_from create edit include list show drop add remove copy move" -s q -l quiet -d 'No confirmations on stdout, no notes or progress on stderr (data, warnings and errors stay)'
complete -c debvault -n "__fish_debvault_using_subcommand repo; and not __fish_seen_subcommand_from create edit include list show drop add remove copy move" -s v -l verbose -d 'More detail on stderr (repeat for debug logs)'
complete -c debvault -n "__fish_debvault_using_subcommand repo; and not __fish_seen_subcommand_from create edit include list show drop add remove copy move" -l no-progress -d 'No progress bars (plain log lines)'
complete -c debvault -n "__fish_debvault_using_subcommand repo; and not __fish_seen_subcommand_from create edit include list show drop add remove copy move" -s h -l help -d 'Print help'
complete -c debvault -n "__fish_debvault_using_subcommand repo; and not __fish_seen_subcommand_from create edit include list show drop add remove copy move" -f -a "create" -d 'Create an empty local repository for packages added by hand'
complete -c debvault -n "__fish_debvault_using_subcommand repo; and not __fish_seen_subcommand_from create edit include list show drop add remove copy move" -f -a "edit" -d 'Change a repository\'s settings or who may upload to it with `repo include`'
complete -c debvault -n "__fish_debvault_using_subcommand repo; and not __fish_seen_subcommand_from create edit include list show drop add remove copy move" -f -a "include" -d 'Include an upload described by a .changes file (dput, dpkg-genchanges)'
complete -c debvault -n "__fish_debvault_using_subcommand repo; and not __fish_seen_subcommand_from create edit include list show drop add remove copy move" -f -a "list" -d 'List local repositories'
complete -c debvault -n "__fish_debvault_using_subcommand repo; and not __fish_seen_subcommand_from create edit include list show drop add remove copy move" -f -a "show" -d 'Show a local repository'
complete -c debvault -n "__fish_debvault_using_subcommand repo; and not __fish_seen_subcommand_from create edit include list show drop add remove copy move" -f -a "drop" -d 'Delete a local repository (snapshots taken from it keep their packages)'
complete -c debvault -n "__fish_debvault_using_subcommand repo; and not __fish_seen_subcommand_from create edit include list show drop add remove copy move" -f -a "add" -d 'Add .deb, .udeb and .dsc files (or every one below a directory) to a repository'
complete -c debvault -n "__fish_debvault_using_subcommand repo; and not __fish_seen_subcommand_from create edit include list show drop add remove copy move" -f -a "remove" -d 'Remove the packages matching a filter from a repository'
complete -c debvault -n "__fish_debvault_using_subcommand repo; and not __fish_seen_subcommand_from create edit include list show drop add remove copy move" -f -a "copy" -d 'Copy the packages matching a filter from one repository to another'
complete -c debvault -n "__fish_debvault_using_subcommand repo; and not __fish_seen_subcommand_from create edit include list show drop add remove copy move" -f -a "move" -d 'Move the packages matching a filter from one repository to another'
complete -c debvault -n "__fish_debvault_using_subcommand repo; and __fish_seen_subcommand_from create" -l component -d 'The component its packages are published in' -r
complete -c debvault -n "__fish_debvault_using_subcommand repo; and __fish_seen_subcommand_from create" -l arch -d 'Architectures a snapshot of it publishes [default: those of its packages]' -r
complete -c debvault -n "__fish_debvault_using_subcommand repo; and __fish_seen_subcommand_from create" -l comment -d 'Free text shown by `repo show`' -r
complete -c debvault -n "__fish_debvault_using_subcommand repo; and __fish_seen_subcommand_from create" -l distribution -d 'The distribution a snapshot of it publishes to when `--distribution` names none' -r
complete -c debvault -n "__fish_debvault_using_subcommand repo; and __fish_seen_subcommand_from create" -l uploaders -d 'Uploaders rules, JSON in aptly\'s uploaders.json shape' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand repo; and __fish_seen_subcommand_from create" -l uploaders-keyring -d 'Public keys of the uploaders (binary or armored), stored with the rules' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand repo; and __fish_seen_subcommand_from create" -l root -d 'Data root holding the database, blobs and publications [env: DEBVAULT_ROOT]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand repo; and __fish_seen_subcommand_from create" -l config -d 'Config file [env: DEBVAULT_CONFIG]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand repo; and __fish_seen_subcommand_from create" -l review -d 'Stage added, copied and moved packages for review (`staged`, `promote`, `reject`)'
complete -c debvault -n "__fish_debvault_using_subcommand repo; and __fish_seen_subcommand_from create" -l dry-run -d 'Check the request, create nothing'
complete -c debvault -n "__fish_debvault_using_subcommand repo; and __fish_seen_subcommand_from create" -l json -d 'Machine-readable JSON on stdout'
complete -c debvault -n "__fish_debvault_using_subcommand repo; and __fish_seen_subcommand_from create" -s q -l quiet -d 'No confirmations on stdout, no notes or progress on stderr (data, warnings and errors stay)'
complete -c debvault -n "__fish_debvault_using_subcommand repo; and __fish_seen_subcommand_from create" -s v -l verbose -d 'More detail on stderr (repeat for debug logs)'
complete -c debvault -n "__fish_debvault_using_subcommand repo; and __fish_seen_subcommand_from create" -l no-progress -d 'No progress bars (plain log lines)'
complete -c debvault -n "__fish_debvault_using_subcommand repo; and __fish_seen_subcommand_from create" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c debvault -n "__fish_debvault_using_subcommand repo; and __fish_seen_subcommand_from edit" -l comment -d 'Free text shown by `repo show` (empty: none)' -r
complete -c debvault -n "__fish_debvault_using_subcommand repo; and __fish_seen_subcommand_from edit" -l distribution -d 'The distribution a snapshot of it publishes to by default (empty: none)' -r
complete -c debvault -n "__fish_debvault_using_subcommand repo; and __fish_seen_subcommand_from edit" -l review -d 'Stage changes for review (true), or make them live at once (false)' -r -f -a "true\t''
false\t''"
complete -c debvault -n "__fish_debvault_using_subcommand repo; and __fish_seen_subcommand_from edit" -l uploaders -d 'Uploaders rules, JSON in aptly\'s uploaders.json shape' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand repo; and __fish_seen_subcommand_from edit" -l uploaders-keyring -d 'Public keys of the uploaders (binary or armored), stored with the rules' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand repo; and __fish_seen_subcommand_from edit" -l root -d 'Data root holding the database, blobs and publications [env: DEBVAULT_ROOT]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand repo; and __fish_seen_subcommand_from edit" -l config -d 'Config file [env: DEBVAULT_CONFIG]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand repo; and __fish_seen_subcommand_from edit" -l no-uploaders -d 'Remove its uploaders: anyone may include, unsigned uploads too'
complete -c debvault -n "__fish_debvault_using_subcommand repo; and __fish_seen_subcommand_from edit" -l dry-run -d 'Check the request, change nothing'
complete -c debvault -n "__fish_debvault_using_subcommand repo; and __fish_seen_subcommand_from edit" -l json -d 'Machine-readable JSON on stdout'
complete -c debvault -n "__fish_debvault_using_subcommand repo; and __fish_seen_subcommand_from edit" -s q -l quiet -d 'No confirmations on stdout, no notes or progress on stderr (data, warnings and errors stay)'
complete -c debvault -n "__fish_debvault_using_subcommand repo; and __fish_seen_subcommand_from edit" -s v -l verbose -d 'More detail on stderr (repeat for debug logs)'
complete -c debvault -n "__fish_debvault_using_subcommand repo; and __fish_seen_subcommand_from edit" -l no-progress -d 'No progress bars (plain log lines)'
complete -c debvault -n "__fish_debvault_using_subcommand repo; and __fish_seen_subcommand_from edit" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c debvault -n "__fish_debvault_using_subcommand repo; and __fish_seen_subcommand_from include" -l root -d 'Data root holding the database, blobs and publications [env: DEBVAULT_ROOT]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand repo; and __fish_seen_subcommand_from include" -l config -d 'Config file [env: DEBVAULT_CONFIG]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand repo; and __fish_seen_subcommand_from include" -l force-replace -d 'Replace a package whose bytes differ under the same version (audited)'
complete -c debvault -n "__fish_debvault_using_subcommand repo; and __fish_seen_subcommand_from include" -l dry-run -d 'Check the upload, store nothing'
complete -c debvault -n "__fish_debvault_using_subcommand repo; and __fish_seen_subcommand_from include" -l json -d 'Machine-readable JSON on stdout'
complete -c debvault -n "__fish_debvault_using_subcommand repo; and __fish_seen_subcommand_from include" -s q -l quiet -d 'No confirmations on stdout, no notes or progress on stderr (data, warnings and errors stay)'
complete -c debvault -n "__fish_debvault_using_subcommand repo; and __fish_seen_subcommand_from include" -s v -l verbose -d 'More detail on stderr (repeat for debug logs)'
complete -c debvault -n "__fish_debvault_using_subcommand repo; and __fish_seen_subcommand_from include" -l no-progress -d 'No progress bars (plain log lines)'
complete -c debvault -n "__fish_debvault_using_subcommand repo; and __fish_seen_subcommand_from include" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c debvault -n "__fish_debvault_using_subcommand repo; and __fish_seen_subcommand_from list" -l root -d 'Data root holding the database, blobs and publications [env: DEBVAULT_ROOT]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand repo; and __fish_seen_subcommand_from list" -l config -d 'Config file [env: DEBVAULT_CONFIG]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand repo; and __fish_seen_subcommand_from list" -l json -d 'Machine-readable JSON on stdout'
complete -c debvault -n "__fish_debvault_using_subcommand repo; and __fish_seen_subcommand_from list" -s q -l quiet -d 'No confirmations on stdout, no notes or progress on stderr (data, warnings and errors stay)'
complete -c debvault -n "__fish_debvault_using_subcommand repo; and __fish_seen_subcommand_from list" -s v -l verbose -d 'More detail on stderr (repeat for debug logs)'
complete -c debvault -n "__fish_debvault_using_subcommand repo; and __fish_seen_subcommand_from list" -l no-progress -d 'No progress bars (plain log lines)'
complete -c debvault -n "__fish_debvault_using_subcommand repo; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c debvault -n "__fish_debvault_using_subcommand repo; and __fish_seen_subcommand_from show" -l root -d 'Data root holding the database, blobs and publications [env: DEBVAULT_ROOT]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand repo; and __fish_seen_subcommand_from show" -l config -d 'Config file [env: DEBVAULT_CONFIG]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand repo; and __fish_seen_subcommand_from show" -l with-packages -d 'Also list its packages'
complete -c debvault -n "__fish_debvault_using_subcommand repo; and __fish_seen_subcommand_from show" -l json -d 'Machine-readable JSON on stdout'
complete -c debvault -n "__fish_debvault_using_subcommand repo; and __fish_seen_subcommand_from show" -s q -l quiet -d 'No confirmations on stdout, no notes or progress on stderr (data, warnings and errors stay)'
complete -c debvault -n "__fish_debvault_using_subcommand repo; and __fish_seen_subcommand_from show" -s v -l verbose -d 'More detail on stderr (repeat for debug logs)'
complete -c debvault -n "__fish_debvault_using_subcommand repo; and __fish_seen_subcommand_from show" -l no-progress -d 'No progress bars (plain log lines)'
complete -c debvault -n "__fish_debvault_using_subcommand repo; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help'
complete -c debvault -n "__fish_debvault_using_subcommand repo; and __fish_seen_subcommand_from drop" -l root -d 'Data root holding the database, blobs and publications [env: DEBVAULT_ROOT]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand repo; and __fish_seen_subcommand_from drop" -l config -d 'Config file [env: DEBVAULT_CONFIG]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand repo; and __fish_seen_subcommand_from drop" -l dry-run -d 'Show what would be dropped, change nothing'
complete -c debvault -n "__fish_debvault_using_subcommand repo; and __fish_seen_subcommand_from drop" -l json -d 'Machine-readable JSON on stdout'
complete -c debvault -n "__fish_debvault_using_subcommand repo; and __fish_seen_subcommand_from drop" -s q -l quiet -d 'No confirmations on stdout, no notes or progress on stderr (data, warnings and errors stay)'
complete -c debvault -n "__fish_debvault_using_subcommand repo; and __fish_seen_subcommand_from drop" -s v -l verbose -d 'More detail on stderr (repeat for debug logs)'
complete -c debvault -n "__fish_debvault_using_subcommand repo; and __fish_seen_subcommand_from drop" -l no-progress -d 'No progress bars (plain log lines)'
complete -c debvault -n "__fish_debvault_using_subcommand repo; and __fish_seen_subcommand_from drop" -s h -l help -d 'Print help'
complete -c debvault -n "__fish_debvault_using_subcommand repo; and __fish_seen_subcommand_from add" -l root -d 'Data root holding the database, blobs and publications [env: DEBVAULT_ROOT]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand repo; and __fish_seen_subcommand_from add" -l config -d 'Config file [env: DEBVAULT_CONFIG]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand repo; and __fish_seen_subcommand_from add" -l force-replace -d 'Replace a package whose bytes differ under the same version (audited)'
complete -c debvault -n "__fish_debvault_using_subcommand repo; and __fish_seen_subcommand_from add" -l dry-run -d 'Show what would be added, store nothing'
complete -c debvault -n "__fish_debvault_using_subcommand repo; and __fish_seen_subcommand_from add" -l json -d 'Machine-readable JSON on stdout'
complete -c debvault -n "__fish_debvault_using_subcommand repo; and __fish_seen_subcommand_from add" -s q -l quiet -d 'No confirmations on stdout, no notes or progress on stderr (data, warnings and errors stay)'
complete -c debvault -n "__fish_debvault_using_subcommand repo; and __fish_seen_subcommand_from add" -s v -l verbose -d 'More detail on stderr (repeat for debug logs)'
complete -c debvault -n "__fish_debvault_using_subcommand repo; and __fish_seen_subcommand_from add" -l no-progress -d 'No progress bars (plain log lines)'
complete -c debvault -n "__fish_debvault_using_subcommand repo; and __fish_seen_subcommand_from add" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c debvault -n "__fish_debvault_using_subcommand repo; and __fish_seen_subcommand_from remove" -l root -d 'Data root holding the database, blobs and publications [env: DEBVAULT_ROOT]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand repo; and __fish_seen_subcommand_from remove" -l config -d 'Config file [env: DEBVAULT_CONFIG]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand repo; and __fish_seen_subcommand_from remove" -l dry-run -d 'Show what would be removed, change nothing'
complete -c debvault -n "__fish_debvault_using_subcommand repo; and __fish_seen_subcommand_from remove" -l json -d 'Machine-readable JSON on stdout'
complete -c debvault -n "__fish_debvault_using_subcommand repo; and __fish_seen_subcommand_from remove" -s q -l quiet -d 'No confirmations on stdout, no notes or progress on stderr (data, warnings and errors stay)'
complete -c debvault -n "__fish_debvault_using_subcommand repo; and __fish_seen_subcommand_from remove" -s v -l verbose -d 'More detail on stderr (repeat for debug logs)'
complete -c debvault -n "__fish_debvault_using_subcommand repo; and __fish_seen_subcommand_from remove" -l no-progress -d 'No progress bars (plain log lines)'
complete -c debvault -n "__fish_debvault_using_subcommand repo; and __fish_seen_subcommand_from remove" -s h -l help -d 'Print help'
complete -c debvault -n "__fish_debvault_using_subcommand repo; and __fish_seen_subcommand_from copy" -l root -d 'Data root holding the database, blobs and publications [env: DEBVAULT_ROOT]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand repo; and __fish_seen_subcommand_from copy" -l config -d 'Config file [env: DEBVAULT_CONFIG]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand repo; and __fish_seen_subcommand_from copy" -l with-deps -d 'Also take the dependencies (Depends, Pre-Depends) the source repo has'
complete -c debvault -n "__fish_debvault_using_subcommand repo; and __fish_seen_subcommand_from copy" -l dry-run -d 'Show what would change, change nothing'
complete -c debvault -n "__fish_debvault_using_subcommand repo; and __fish_seen_subcommand_from copy" -l json -d 'Machine-readable JSON on stdout'
complete -c debvault -n "__fish_debvault_using_subcommand repo; and __fish_seen_subcommand_from copy" -s q -l quiet -d 'No confirmations on stdout, no notes or progress on stderr (data, warnings and errors stay)'
complete -c debvault -n "__fish_debvault_using_subcommand repo; and __fish_seen_subcommand_from copy" -s v -l verbose -d 'More detail on stderr (repeat for debug logs)'
complete -c debvault -n "__fish_debvault_using_subcommand repo; and __fish_seen_subcommand_from copy" -l no-progress -d 'No progress bars (plain log lines)'
complete -c debvault -n "__fish_debvault_using_subcommand repo; and __fish_seen_subcommand_from copy" -s h -l help -d 'Print help'
complete -c debvault -n "__fish_debvault_using_subcommand repo; and __fish_seen_subcommand_from move" -l root -d 'Data root holding the database, blobs and publications [env: DEBVAULT_ROOT]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand repo; and __fish_seen_subcommand_from move" -l config -d 'Config file [env: DEBVAULT_CONFIG]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand repo; and __fish_seen_subcommand_from move" -l with-deps -d 'Also take the dependencies (Depends, Pre-Depends) the source repo has'
complete -c debvault -n "__fish_debvault_using_subcommand repo; and __fish_seen_subcommand_from move" -l dry-run -d 'Show what would change, change nothing'
complete -c debvault -n "__fish_debvault_using_subcommand repo; and __fish_seen_subcommand_from move" -l json -d 'Machine-readable JSON on stdout'
complete -c debvault -n "__fish_debvault_using_subcommand repo; and __fish_seen_subcommand_from move" -s q -l quiet -d 'No confirmations on stdout, no notes or progress on stderr (data, warnings and errors stay)'
complete -c debvault -n "__fish_debvault_using_subcommand repo; and __fish_seen_subcommand_from move" -s v -l verbose -d 'More detail on stderr (repeat for debug logs)'
complete -c debvault -n "__fish_debvault_using_subcommand repo; and __fish_seen_subcommand_from move" -l no-progress -d 'No progress bars (plain log lines)'
complete -c debvault -n "__fish_debvault_using_subcommand repo; and __fish_seen_subcommand_from move" -s h -l help -d 'Print help'
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and not __fish_seen_subcommand_from create list show diff merge filter verify export drop rename publish" -l root -d 'Data root holding the database, blobs and publications [env: DEBVAULT_ROOT]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and not __fish_seen_subcommand_from create list show diff merge filter verify export drop rename publish" -l config -d 'Config file [env: DEBVAULT_CONFIG]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and not __fish_seen_subcommand_from create list show diff merge filter verify export drop rename publish" -l json -d 'Machine-readable JSON on stdout'
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and not __fish_seen_subcommand_from create list show diff merge filter verify export drop rename publish" -s q -l quiet -d 'No confirmations on stdout, no notes or progress on stderr (data, warnings and errors stay)'
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and not __fish_seen_subcommand_from create list show diff merge filter verify export drop rename publish" -s v -l verbose -d 'More detail on stderr (repeat for debug logs)'
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and not __fish_seen_subcommand_from create list show diff merge filter verify export drop rename publish" -l no-progress -d 'No progress bars (plain log lines)'
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and not __fish_seen_subcommand_from create list show diff merge filter verify export drop rename publish" -s h -l help -d 'Print help'
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and not __fish_seen_subcommand_from create list show diff merge filter verify export drop rename publish" -f -a "create" -d 'Take an immutable snapshot of mirrors\' and local repositories\' current packages'
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and not __fish_seen_subcommand_from create list show diff merge filter verify export drop rename publish" -f -a "list" -d 'List snapshots'
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and not __fish_seen_subcommand_from create list show diff merge filter verify export drop rename publish" -f -a "show" -d 'Show a snapshot: counts per component and architecture, total size'
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and not __fish_seen_subcommand_from create list show diff merge filter verify export drop rename publish" -f -a "diff" -d 'Compare two snapshots: added, removed, upgraded, downgraded, changed'
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and not __fish_seen_subcommand_from create list show diff merge filter verify export drop rename publish" -f -a "merge" -d 'Merge snapshots into a new one (the newest version of each package name and architecture wins)'
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and not __fish_seen_subcommand_from create list show diff merge filter verify export drop rename publish" -f -a "filter" -d 'Make a new snapshot of the packages of another that match a filter'
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and not __fish_seen_subcommand_from create list show diff merge filter verify export drop rename publish" -f -a "verify" -d 'List every dependency (Pre-Depends, Depends) nothing in the snapshot satisfies; exit 3 if any'
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and not __fish_seen_subcommand_from create list show diff merge filter verify export drop rename publish" -f -a "export" -d 'Write a software bill of materials of a snapshot: every package with purl and SHA256, and its sources'
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and not __fish_seen_subcommand_from create list show diff merge filter verify export drop rename publish" -f -a "drop" -d 'Delete a snapshot (refused while it is published)'
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and not __fish_seen_subcommand_from create list show diff merge filter verify export drop rename publish" -f -a "rename" -d 'Rename a snapshot (its publications follow)'
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and not __fish_seen_subcommand_from create list show diff merge filter verify export drop rename publish" -f -a "publish" -d 'Publish a snapshot as a signed apt tree, or switch a distribution to it atomically'
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from create" -l from-mirror -d 'Mirror to take packages from; repeat to combine (the newest version of each package wins)' -r
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from create" -l from-repo -d 'Local repository to take packages from (after the mirrors); repeatable' -r
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from create" -l from-group -d 'Take one snapshot of each mirror of a group at once (`<mirror>-YYYYMMDD`, same time)' -r
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from create" -l root -d 'Data root holding the database, blobs and publications [env: DEBVAULT_ROOT]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from create" -l config -d 'Config file [env: DEBVAULT_CONFIG]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from create" -l later-wins -d 'Let a later mirror win even with a lower version (each downgrade is printed)'
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from create" -l json -d 'Machine-readable JSON on stdout'
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from create" -s q -l quiet -d 'No confirmations on stdout, no notes or progress on stderr (data, warnings and errors stay)'
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from create" -s v -l verbose -d 'More detail on stderr (repeat for debug logs)'
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from create" -l no-progress -d 'No progress bars (plain log lines)'
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from create" -s h -l help -d 'Print help'
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from list" -l root -d 'Data root holding the database, blobs and publications [env: DEBVAULT_ROOT]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from list" -l config -d 'Config file [env: DEBVAULT_CONFIG]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from list" -l json -d 'Machine-readable JSON on stdout'
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from list" -s q -l quiet -d 'No confirmations on stdout, no notes or progress on stderr (data, warnings and errors stay)'
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from list" -s v -l verbose -d 'More detail on stderr (repeat for debug logs)'
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from list" -l no-progress -d 'No progress bars (plain log lines)'
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from show" -l root -d 'Data root holding the database, blobs and publications [env: DEBVAULT_ROOT]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from show" -l config -d 'Config file [env: DEBVAULT_CONFIG]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from show" -l with-packages -d 'Also list its packages'
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from show" -l json -d 'Machine-readable JSON on stdout'
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from show" -s q -l quiet -d 'No confirmations on stdout, no notes or progress on stderr (data, warnings and errors stay)'
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from show" -s v -l verbose -d 'More detail on stderr (repeat for debug logs)'
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from show" -l no-progress -d 'No progress bars (plain log lines)'
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help'
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from diff" -l root -d 'Data root holding the database, blobs and publications [env: DEBVAULT_ROOT]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from diff" -l config -d 'Config file [env: DEBVAULT_CONFIG]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from diff" -l changelog -d 'Show each change\'s changelog entries since the old version, their CVE IDs and urgency'
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from diff" -l json -d 'Machine-readable JSON on stdout'
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from diff" -s q -l quiet -d 'No confirmations on stdout, no notes or progress on stderr (data, warnings and errors stay)'
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from diff" -s v -l verbose -d 'More detail on stderr (repeat for debug logs)'
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from diff" -l no-progress -d 'No progress bars (plain log lines)'
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from diff" -s h -l help -d 'Print help'
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from merge" -l root -d 'Data root holding the database, blobs and publications [env: DEBVAULT_ROOT]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from merge" -l config -d 'Config file [env: DEBVAULT_CONFIG]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from merge" -l later-wins -d 'Let a later source win even with a lower version (each downgrade is printed)'
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from merge" -l latest -d 'Now the default: the newest version wins (accepted for old scripts)'
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from merge" -l json -d 'Machine-readable JSON on stdout'
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from merge" -s q -l quiet -d 'No confirmations on stdout, no notes or progress on stderr (data, warnings and errors stay)'
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from merge" -s v -l verbose -d 'More detail on stderr (repeat for debug logs)'
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from merge" -l no-progress -d 'No progress bars (plain log lines)'
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from merge" -s h -l help -d 'Print help'
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from filter" -l root -d 'Data root holding the database, blobs and publications [env: DEBVAULT_ROOT]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from filter" -l config -d 'Config file [env: DEBVAULT_CONFIG]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from filter" -l with-deps -d 'Add the dependency closure (Depends, Pre-Depends) from the source'
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from filter" -l follow-recommends -d 'Follow Recommends too'
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from filter" -l json -d 'Machine-readable JSON on stdout'
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from filter" -s q -l quiet -d 'No confirmations on stdout, no notes or progress on stderr (data, warnings and errors stay)'
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from filter" -s v -l verbose -d 'More detail on stderr (repeat for debug logs)'
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from filter" -l no-progress -d 'No progress bars (plain log lines)'
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from filter" -s h -l help -d 'Print help'
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from verify" -l root -d 'Data root holding the database, blobs and publications [env: DEBVAULT_ROOT]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from verify" -l config -d 'Config file [env: DEBVAULT_CONFIG]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from verify" -l json -d 'Machine-readable JSON on stdout'
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from verify" -s q -l quiet -d 'No confirmations on stdout, no notes or progress on stderr (data, warnings and errors stay)'
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from verify" -s v -l verbose -d 'More detail on stderr (repeat for debug logs)'
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from verify" -l no-progress -d 'No progress bars (plain log lines)'
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from verify" -s h -l help -d 'Print help'
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from export" -l format -d 'Document format: CycloneDX 1.6 JSON or SPDX 2.3 JSON' -r -f -a "cyclonedx\t''
spdx\t''"
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from export" -s o -l output -d 'Write to FILE (atomically) instead of stdout' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from export" -l root -d 'Data root holding the database, blobs and publications [env: DEBVAULT_ROOT]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from export" -l config -d 'Config file [env: DEBVAULT_CONFIG]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from export" -l json -d 'Machine-readable JSON on stdout'
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from export" -s q -l quiet -d 'No confirmations on stdout, no notes or progress on stderr (data, warnings and errors stay)'
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from export" -s v -l verbose -d 'More detail on stderr (repeat for debug logs)'
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from export" -l no-progress -d 'No progress bars (plain log lines)'
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from export" -s h -l help -d 'Print help'
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from drop" -l root -d 'Data root holding the database, blobs and publications [env: DEBVAULT_ROOT]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from drop" -l config -d 'Config file [env: DEBVAULT_CONFIG]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from drop" -l json -d 'Machine-readable JSON on stdout'
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from drop" -s q -l quiet -d 'No confirmations on stdout, no notes or progress on stderr (data, warnings and errors stay)'
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from drop" -s v -l verbose -d 'More detail on stderr (repeat for debug logs)'
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from drop" -l no-progress -d 'No progress bars (plain log lines)'
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from drop" -s h -l help -d 'Print help'
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from rename" -l root -d 'Data root holding the database, blobs and publications [env: DEBVAULT_ROOT]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from rename" -l config -d 'Config file [env: DEBVAULT_CONFIG]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from rename" -l json -d 'Machine-readable JSON on stdout'
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from rename" -s q -l quiet -d 'No confirmations on stdout, no notes or progress on stderr (data, warnings and errors stay)'
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from rename" -s v -l verbose -d 'More detail on stderr (repeat for debug logs)'
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from rename" -l no-progress -d 'No progress bars (plain log lines)'
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from rename" -s h -l help -d 'Print help'
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from publish" -l prefix -d 'Path below the publish endpoint [default: its root]' -r
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from publish" -l distribution -d 'Distribution, served as dists/<DIST> [default: the mirror\'s suite]' -r
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from publish" -l component -d 'Publish the snapshots as these components, one per snapshot in order' -r
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from publish" -l origin -d '`Origin` field of the Release [default: debvault]' -r
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from publish" -l label -d '`Label` field of the Release [default: the distribution, after the prefix if any]' -r
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from publish" -l suite -d '`Suite` field of the Release [default: the distribution]' -r
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from publish" -l codename -d '`Codename` field of the Release [default: the distribution]' -r
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from publish" -l valid-for -d 'Write `Valid-Until` this far after `Date`, e.g. 7d, 12h (re-publish to refresh)' -r
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from publish" -l snapshots-url -d 'URL clients reach the prefix at; writes a `Snapshots` field for `apt --snapshot`' -r
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from publish" -l base-url -d 'URL clients reach the prefix at; writes a `Changelogs` field for `apt changelog`' -r
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from publish" -l unset -d 'Put a stored setting back to its default (repeatable), e.g. `--unset snapshots-url`' -r -f -a "origin\t''
label\t''
suite\t''
codename\t''
valid-for\t''
snapshots-url\t''
not-automatic\t''
but-automatic-upgrades\t''
no-contents\t''
no-changelogs\t''
base-url\t''"
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from publish" -l root -d 'Data root holding the database, blobs and publications [env: DEBVAULT_ROOT]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from publish" -l config -d 'Config file [env: DEBVAULT_CONFIG]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from publish" -l not-automatic -d '`NotAutomatic: yes` (apt installs from it only when asked)'
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from publish" -l but-automatic-upgrades -d '`ButAutomaticUpgrades: yes` (with --not-automatic: upgrades still follow it)'
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from publish" -l no-contents -d 'Publish no Contents-<arch>.gz indices (for `apt-file`)'
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from publish" -l no-changelogs -d 'Publish no changelogs (for `apt changelog`): one file per source version'
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from publish" -l set -d 'Let the flags above change the publication\'s stored settings'
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from publish" -l dry-run -d 'Show what would be published, write nothing'
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from publish" -l allow-unmet -d 'Publish even if dependencies are unmet (see `debvault snapshot verify`)'
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from publish" -l json -d 'Machine-readable JSON on stdout'
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from publish" -s q -l quiet -d 'No confirmations on stdout, no notes or progress on stderr (data, warnings and errors stay)'
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from publish" -s v -l verbose -d 'More detail on stderr (repeat for debug logs)'
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from publish" -l no-progress -d 'No progress bars (plain log lines)'
complete -c debvault -n "__fish_debvault_using_subcommand snapshot; and __fish_seen_subcommand_from publish" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c debvault -n "__fish_debvault_using_subcommand publish; and not __fish_seen_subcommand_from list show drop" -l root -d 'Data root holding the database, blobs and publications [env: DEBVAULT_ROOT]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand publish; and not __fish_seen_subcommand_from list show drop" -l config -d 'Config file [env: DEBVAULT_CONFIG]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand publish; and not __fish_seen_subcommand_from list show drop" -l json -d 'Machine-readable JSON on stdout'
complete -c debvault -n "__fish_debvault_using_subcommand publish; and not __fish_seen_subcommand_from list show drop" -s q -l quiet -d 'No confirmations on stdout, no notes or progress on stderr (data, warnings and errors stay)'
complete -c debvault -n "__fish_debvault_using_subcommand publish; and not __fish_seen_subcommand_from list show drop" -s v -l verbose -d 'More detail on stderr (repeat for debug logs)'
complete -c debvault -n "__fish_debvault_using_subcommand publish; and not __fish_seen_subcommand_from list show drop" -l no-progress -d 'No progress bars (plain log lines)'
complete -c debvault -n "__fish_debvault_using_subcommand publish; and not __fish_seen_subcommand_from list show drop" -s h -l help -d 'Print help'
complete -c debvault -n "__fish_debvault_using_subcommand publish; and not __fish_seen_subcommand_from list show drop" -f -a "list" -d 'List publications'
complete -c debvault -n "__fish_debvault_using_subcommand publish; and not __fish_seen_subcommand_from list show drop" -f -a "show" -d 'Show one publication with its history of switches'
complete -c debvault -n "__fish_debvault_using_subcommand publish; and not __fish_seen_subcommand_from list show drop" -f -a "drop" -d 'Remove a publication (its pool files stay until `gc`)'
complete -c debvault -n "__fish_debvault_using_subcommand publish; and __fish_seen_subcommand_from list" -l root -d 'Data root holding the database, blobs and publications [env: DEBVAULT_ROOT]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand publish; and __fish_seen_subcommand_from list" -l config -d 'Config file [env: DEBVAULT_CONFIG]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand publish; and __fish_seen_subcommand_from list" -l json -d 'Machine-readable JSON on stdout'
complete -c debvault -n "__fish_debvault_using_subcommand publish; and __fish_seen_subcommand_from list" -s q -l quiet -d 'No confirmations on stdout, no notes or progress on stderr (data, warnings and errors stay)'
complete -c debvault -n "__fish_debvault_using_subcommand publish; and __fish_seen_subcommand_from list" -s v -l verbose -d 'More detail on stderr (repeat for debug logs)'
complete -c debvault -n "__fish_debvault_using_subcommand publish; and __fish_seen_subcommand_from list" -l no-progress -d 'No progress bars (plain log lines)'
complete -c debvault -n "__fish_debvault_using_subcommand publish; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c debvault -n "__fish_debvault_using_subcommand publish; and __fish_seen_subcommand_from show" -l prefix -d 'Prefix below the publish endpoint' -r
complete -c debvault -n "__fish_debvault_using_subcommand publish; and __fish_seen_subcommand_from show" -l root -d 'Data root holding the database, blobs and publications [env: DEBVAULT_ROOT]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand publish; and __fish_seen_subcommand_from show" -l config -d 'Config file [env: DEBVAULT_CONFIG]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand publish; and __fish_seen_subcommand_from show" -l json -d 'Machine-readable JSON on stdout'
complete -c debvault -n "__fish_debvault_using_subcommand publish; and __fish_seen_subcommand_from show" -s q -l quiet -d 'No confirmations on stdout, no notes or progress on stderr (data, warnings and errors stay)'
complete -c debvault -n "__fish_debvault_using_subcommand publish; and __fish_seen_subcommand_from show" -s v -l verbose -d 'More detail on stderr (repeat for debug logs)'
complete -c debvault -n "__fish_debvault_using_subcommand publish; and __fish_seen_subcommand_from show" -l no-progress -d 'No progress bars (plain log lines)'
complete -c debvault -n "__fish_debvault_using_subcommand publish; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help'
complete -c debvault -n "__fish_debvault_using_subcommand publish; and __fish_seen_subcommand_from drop" -l prefix -d 'Prefix below the publish endpoint' -r
complete -c debvault -n "__fish_debvault_using_subcommand publish; and __fish_seen_subcommand_from drop" -l root -d 'Data root holding the database, blobs and publications [env: DEBVAULT_ROOT]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand publish; and __fish_seen_subcommand_from drop" -l config -d 'Config file [env: DEBVAULT_CONFIG]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand publish; and __fish_seen_subcommand_from drop" -l json -d 'Machine-readable JSON on stdout'
complete -c debvault -n "__fish_debvault_using_subcommand publish; and __fish_seen_subcommand_from drop" -s q -l quiet -d 'No confirmations on stdout, no notes or progress on stderr (data, warnings and errors stay)'
complete -c debvault -n "__fish_debvault_using_subcommand publish; and __fish_seen_subcommand_from drop" -s v -l verbose -d 'More detail on stderr (repeat for debug logs)'
complete -c debvault -n "__fish_debvault_using_subcommand publish; and __fish_seen_subcommand_from drop" -l no-progress -d 'No progress bars (plain log lines)'
complete -c debvault -n "__fish_debvault_using_subcommand publish; and __fish_seen_subcommand_from drop" -s h -l help -d 'Print help'
complete -c debvault -n "__fish_debvault_using_subcommand package; and not __fish_seen_subcommand_from search" -l root -d 'Data root holding the database, blobs and publications [env: DEBVAULT_ROOT]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand package; and not __fish_seen_subcommand_from search" -l config -d 'Config file [env: DEBVAULT_CONFIG]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand package; and not __fish_seen_subcommand_from search" -l json -d 'Machine-readable JSON on stdout'
complete -c debvault -n "__fish_debvault_using_subcommand package; and not __fish_seen_subcommand_from search" -s q -l quiet -d 'No confirmations on stdout, no notes or progress on stderr (data, warnings and errors stay)'
complete -c debvault -n "__fish_debvault_using_subcommand package; and not __fish_seen_subcommand_from search" -s v -l verbose -d 'More detail on stderr (repeat for debug logs)'
complete -c debvault -n "__fish_debvault_using_subcommand package; and not __fish_seen_subcommand_from search" -l no-progress -d 'No progress bars (plain log lines)'
complete -c debvault -n "__fish_debvault_using_subcommand package; and not __fish_seen_subcommand_from search" -s h -l help -d 'Print help'
complete -c debvault -n "__fish_debvault_using_subcommand package; and not __fish_seen_subcommand_from search" -f -a "search" -d 'List the packages of mirrors, snapshots and repos that match a filter, and where each is'
complete -c debvault -n "__fish_debvault_using_subcommand package; and __fish_seen_subcommand_from search" -l mirror -d 'Search only this mirror\'s current packages' -r
complete -c debvault -n "__fish_debvault_using_subcommand package; and __fish_seen_subcommand_from search" -l snapshot -d 'Search only this snapshot' -r
complete -c debvault -n "__fish_debvault_using_subcommand package; and __fish_seen_subcommand_from search" -l repo -d 'Search only this local repository' -r
complete -c debvault -n "__fish_debvault_using_subcommand package; and __fish_seen_subcommand_from search" -l root -d 'Data root holding the database, blobs and publications [env: DEBVAULT_ROOT]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand package; and __fish_seen_subcommand_from search" -l config -d 'Config file [env: DEBVAULT_CONFIG]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand package; and __fish_seen_subcommand_from search" -l json -d 'Machine-readable JSON on stdout'
complete -c debvault -n "__fish_debvault_using_subcommand package; and __fish_seen_subcommand_from search" -s q -l quiet -d 'No confirmations on stdout, no notes or progress on stderr (data, warnings and errors stay)'
complete -c debvault -n "__fish_debvault_using_subcommand package; and __fish_seen_subcommand_from search" -s v -l verbose -d 'More detail on stderr (repeat for debug logs)'
complete -c debvault -n "__fish_debvault_using_subcommand package; and __fish_seen_subcommand_from search" -l no-progress -d 'No progress bars (plain log lines)'
complete -c debvault -n "__fish_debvault_using_subcommand package; and __fish_seen_subcommand_from search" -s h -l help -d 'Print help'
complete -c debvault -n "__fish_debvault_using_subcommand key; and not __fish_seen_subcommand_from generate import export list remove" -l root -d 'Data root holding the database, blobs and publications [env: DEBVAULT_ROOT]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand key; and not __fish_seen_subcommand_from generate import export list remove" -l config -d 'Config file [env: DEBVAULT_CONFIG]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand key; and not __fish_seen_subcommand_from generate import export list remove" -l json -d 'Machine-readable JSON on stdout'
complete -c debvault -n "__fish_debvault_using_subcommand key; and not __fish_seen_subcommand_from generate import export list remove" -s q -l quiet -d 'No confirmations on stdout, no notes or progress on stderr (data, warnings and errors stay)'
complete -c debvault -n "__fish_debvault_using_subcommand key; and not __fish_seen_subcommand_from generate import export list remove" -s v -l verbose -d 'More detail on stderr (repeat for debug logs)'
complete -c debvault -n "__fish_debvault_using_subcommand key; and not __fish_seen_subcommand_from generate import export list remove" -l no-progress -d 'No progress bars (plain log lines)'
complete -c debvault -n "__fish_debvault_using_subcommand key; and not __fish_seen_subcommand_from generate import export list remove" -s h -l help -d 'Print help'
complete -c debvault -n "__fish_debvault_using_subcommand key; and not __fish_seen_subcommand_from generate import export list remove" -f -a "generate" -d 'Generate a signing key (encrypted when DEBVAULT_KEY_PASSPHRASE is set)'
complete -c debvault -n "__fish_debvault_using_subcommand key; and not __fish_seen_subcommand_from generate import export list remove" -f -a "import" -d 'Import an armored or binary secret key'
complete -c debvault -n "__fish_debvault_using_subcommand key; and not __fish_seen_subcommand_from generate import export list remove" -f -a "export" -d 'Print the public keys, for /etc/apt/keyrings/ and `signed-by=`'
complete -c debvault -n "__fish_debvault_using_subcommand key; and not __fish_seen_subcommand_from generate import export list remove" -f -a "list" -d 'List the signing keys'
complete -c debvault -n "__fish_debvault_using_subcommand key; and not __fish_seen_subcommand_from generate import export list remove" -f -a "remove" -d 'Stop signing with a key (its file is kept aside under keys/removed/)'
complete -c debvault -n "__fish_debvault_using_subcommand key; and __fish_seen_subcommand_from generate" -l name -d 'Name in the key\'s user ID' -r
complete -c debvault -n "__fish_debvault_using_subcommand key; and __fish_seen_subcommand_from generate" -l email -d 'Email in the key\'s user ID' -r
complete -c debvault -n "__fish_debvault_using_subcommand key; and __fish_seen_subcommand_from generate" -l algo -d 'Key algorithm' -r -f -a "ed25519\t''
rsa4096\t''"
complete -c debvault -n "__fish_debvault_using_subcommand key; and __fish_seen_subcommand_from generate" -l root -d 'Data root holding the database, blobs and publications [env: DEBVAULT_ROOT]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand key; and __fish_seen_subcommand_from generate" -l config -d 'Config file [env: DEBVAULT_CONFIG]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand key; and __fish_seen_subcommand_from generate" -l json -d 'Machine-readable JSON on stdout'
complete -c debvault -n "__fish_debvault_using_subcommand key; and __fish_seen_subcommand_from generate" -s q -l quiet -d 'No confirmations on stdout, no notes or progress on stderr (data, warnings and errors stay)'
complete -c debvault -n "__fish_debvault_using_subcommand key; and __fish_seen_subcommand_from generate" -s v -l verbose -d 'More detail on stderr (repeat for debug logs)'
complete -c debvault -n "__fish_debvault_using_subcommand key; and __fish_seen_subcommand_from generate" -l no-progress -d 'No progress bars (plain log lines)'
complete -c debvault -n "__fish_debvault_using_subcommand key; and __fish_seen_subcommand_from generate" -s h -l help -d 'Print help'
complete -c debvault -n "__fish_debvault_using_subcommand key; and __fish_seen_subcommand_from import" -l root -d 'Data root holding the database, blobs and publications [env: DEBVAULT_ROOT]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand key; and __fish_seen_subcommand_from import" -l config -d 'Config file [env: DEBVAULT_CONFIG]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand key; and __fish_seen_subcommand_from import" -l json -d 'Machine-readable JSON on stdout'
complete -c debvault -n "__fish_debvault_using_subcommand key; and __fish_seen_subcommand_from import" -s q -l quiet -d 'No confirmations on stdout, no notes or progress on stderr (data, warnings and errors stay)'
complete -c debvault -n "__fish_debvault_using_subcommand key; and __fish_seen_subcommand_from import" -s v -l verbose -d 'More detail on stderr (repeat for debug logs)'
complete -c debvault -n "__fish_debvault_using_subcommand key; and __fish_seen_subcommand_from import" -l no-progress -d 'No progress bars (plain log lines)'
complete -c debvault -n "__fish_debvault_using_subcommand key; and __fish_seen_subcommand_from import" -s h -l help -d 'Print help'
complete -c debvault -n "__fish_debvault_using_subcommand key; and __fish_seen_subcommand_from export" -s o -l output -d 'Write to this file instead of stdout' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand key; and __fish_seen_subcommand_from export" -l root -d 'Data root holding the database, blobs and publications [env: DEBVAULT_ROOT]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand key; and __fish_seen_subcommand_from export" -l config -d 'Config file [env: DEBVAULT_CONFIG]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand key; and __fish_seen_subcommand_from export" -l armor -d 'ASCII armor instead of a binary keyring'
complete -c debvault -n "__fish_debvault_using_subcommand key; and __fish_seen_subcommand_from export" -l json -d 'Machine-readable JSON on stdout'
complete -c debvault -n "__fish_debvault_using_subcommand key; and __fish_seen_subcommand_from export" -s q -l quiet -d 'No confirmations on stdout, no notes or progress on stderr (data, warnings and errors stay)'
complete -c debvault -n "__fish_debvault_using_subcommand key; and __fish_seen_subcommand_from export" -s v -l verbose -d 'More detail on stderr (repeat for debug logs)'
complete -c debvault -n "__fish_debvault_using_subcommand key; and __fish_seen_subcommand_from export" -l no-progress -d 'No progress bars (plain log lines)'
complete -c debvault -n "__fish_debvault_using_subcommand key; and __fish_seen_subcommand_from export" -s h -l help -d 'Print help'
complete -c debvault -n "__fish_debvault_using_subcommand key; and __fish_seen_subcommand_from list" -l root -d 'Data root holding the database, blobs and publications [env: DEBVAULT_ROOT]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand key; and __fish_seen_subcommand_from list" -l config -d 'Config file [env: DEBVAULT_CONFIG]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand key; and __fish_seen_subcommand_from list" -l json -d 'Machine-readable JSON on stdout'
complete -c debvault -n "__fish_debvault_using_subcommand key; and __fish_seen_subcommand_from list" -s q -l quiet -d 'No confirmations on stdout, no notes or progress on stderr (data, warnings and errors stay)'
complete -c debvault -n "__fish_debvault_using_subcommand key; and __fish_seen_subcommand_from list" -s v -l verbose -d 'More detail on stderr (repeat for debug logs)'
complete -c debvault -n "__fish_debvault_using_subcommand key; and __fish_seen_subcommand_from list" -l no-progress -d 'No progress bars (plain log lines)'
complete -c debvault -n "__fish_debvault_using_subcommand key; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c debvault -n "__fish_debvault_using_subcommand key; and __fish_seen_subcommand_from remove" -l root -d 'Data root holding the database, blobs and publications [env: DEBVAULT_ROOT]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand key; and __fish_seen_subcommand_from remove" -l config -d 'Config file [env: DEBVAULT_CONFIG]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand key; and __fish_seen_subcommand_from remove" -l json -d 'Machine-readable JSON on stdout'
complete -c debvault -n "__fish_debvault_using_subcommand key; and __fish_seen_subcommand_from remove" -s q -l quiet -d 'No confirmations on stdout, no notes or progress on stderr (data, warnings and errors stay)'
complete -c debvault -n "__fish_debvault_using_subcommand key; and __fish_seen_subcommand_from remove" -s v -l verbose -d 'More detail on stderr (repeat for debug logs)'
complete -c debvault -n "__fish_debvault_using_subcommand key; and __fish_seen_subcommand_from remove" -l no-progress -d 'No progress bars (plain log lines)'
complete -c debvault -n "__fish_debvault_using_subcommand key; and __fish_seen_subcommand_from remove" -s h -l help -d 'Print help'
complete -c debvault -n "__fish_debvault_using_subcommand apply" -l root -d 'Data root holding the database, blobs and publications [env: DEBVAULT_ROOT]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand apply" -l config -d 'Config file [env: DEBVAULT_CONFIG]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand apply" -l dry-run -d 'Print the plan; change nothing'
complete -c debvault -n "__fish_debvault_using_subcommand apply" -l json -d 'Machine-readable JSON on stdout'
complete -c debvault -n "__fish_debvault_using_subcommand apply" -s q -l quiet -d 'No confirmations on stdout, no notes or progress on stderr (data, warnings and errors stay)'
complete -c debvault -n "__fish_debvault_using_subcommand apply" -s v -l verbose -d 'More detail on stderr (repeat for debug logs)'
complete -c debvault -n "__fish_debvault_using_subcommand apply" -l no-progress -d 'No progress bars (plain log lines)'
complete -c debvault -n "__fish_debvault_using_subcommand apply" -s h -l help -d 'Print help'
complete -c debvault -n "__fish_debvault_using_subcommand freeze" -l reason -d 'Why (recorded in the audit trail)' -r
complete -c debvault -n "__fish_debvault_using_subcommand freeze" -l root -d 'Data root holding the database, blobs and publications [env: DEBVAULT_ROOT]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand freeze" -l config -d 'Config file [env: DEBVAULT_CONFIG]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand freeze" -l mirror -d 'NAME is a mirror (needed only when a repo has the same name)'
complete -c debvault -n "__fish_debvault_using_subcommand freeze" -l repo -d 'NAME is a local repository (needed only when a mirror has the same name)'
complete -c debvault -n "__fish_debvault_using_subcommand freeze" -l json -d 'Machine-readable JSON on stdout'
complete -c debvault -n "__fish_debvault_using_subcommand freeze" -s q -l quiet -d 'No confirmations on stdout, no notes or progress on stderr (data, warnings and errors stay)'
complete -c debvault -n "__fish_debvault_using_subcommand freeze" -s v -l verbose -d 'More detail on stderr (repeat for debug logs)'
complete -c debvault -n "__fish_debvault_using_subcommand freeze" -l no-progress -d 'No progress bars (plain log lines)'
complete -c debvault -n "__fish_debvault_using_subcommand freeze" -s h -l help -d 'Print help'
complete -c debvault -n "__fish_debvault_using_subcommand unfreeze" -l reason -d 'Why (recorded in the audit trail)' -r
complete -c debvault -n "__fish_debvault_using_subcommand unfreeze" -l root -d 'Data root holding the database, blobs and publications [env: DEBVAULT_ROOT]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand unfreeze" -l config -d 'Config file [env: DEBVAULT_CONFIG]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand unfreeze" -l mirror -d 'NAME is a mirror (needed only when a repo has the same name)'
complete -c debvault -n "__fish_debvault_using_subcommand unfreeze" -l repo -d 'NAME is a local repository (needed only when a mirror has the same name)'
complete -c debvault -n "__fish_debvault_using_subcommand unfreeze" -l accept-new -d 'Take the new upstream content of a package frozen because it changed under the same version'
complete -c debvault -n "__fish_debvault_using_subcommand unfreeze" -l json -d 'Machine-readable JSON on stdout'
complete -c debvault -n "__fish_debvault_using_subcommand unfreeze" -s q -l quiet -d 'No confirmations on stdout, no notes or progress on stderr (data, warnings and errors stay)'
complete -c debvault -n "__fish_debvault_using_subcommand unfreeze" -s v -l verbose -d 'More detail on stderr (repeat for debug logs)'
complete -c debvault -n "__fish_debvault_using_subcommand unfreeze" -l no-progress -d 'No progress bars (plain log lines)'
complete -c debvault -n "__fish_debvault_using_subcommand unfreeze" -s h -l help -d 'Print help'
complete -c debvault -n "__fish_debvault_using_subcommand staged; and not __fish_seen_subcommand_from list report" -l root -d 'Data root holding the database, blobs and publications [env: DEBVAULT_ROOT]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand staged; and not __fish_seen_subcommand_from list report" -l config -d 'Config file [env: DEBVAULT_CONFIG]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand staged; and not __fish_seen_subcommand_from list report" -l json -d 'Machine-readable JSON on stdout'
complete -c debvault -n "__fish_debvault_using_subcommand staged; and not __fish_seen_subcommand_from list report" -s q -l quiet -d 'No confirmations on stdout, no notes or progress on stderr (data, warnings and errors stay)'
complete -c debvault -n "__fish_debvault_using_subcommand staged; and not __fish_seen_subcommand_from list report" -s v -l verbose -d 'More detail on stderr (repeat for debug logs)'
complete -c debvault -n "__fish_debvault_using_subcommand staged; and not __fish_seen_subcommand_from list report" -l no-progress -d 'No progress bars (plain log lines)'
complete -c debvault -n "__fish_debvault_using_subcommand staged; and not __fish_seen_subcommand_from list report" -s h -l help -d 'Print help'
complete -c debvault -n "__fish_debvault_using_subcommand staged; and not __fish_seen_subcommand_from list report" -f -a "list" -d 'List changes waiting for review'
complete -c debvault -n "__fish_debvault_using_subcommand staged; and not __fish_seen_subcommand_from list report" -f -a "report" -d 'A Markdown report for a review meeting: pending changes and recent decisions'
complete -c debvault -n "__fish_debvault_using_subcommand staged; and __fish_seen_subcommand_from list" -l root -d 'Data root holding the database, blobs and publications [env: DEBVAULT_ROOT]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand staged; and __fish_seen_subcommand_from list" -l config -d 'Config file [env: DEBVAULT_CONFIG]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand staged; and __fish_seen_subcommand_from list" -l changelog -d 'Show each change\'s changelog entries since the live version, their CVE IDs and urgency'
complete -c debvault -n "__fish_debvault_using_subcommand staged; and __fish_seen_subcommand_from list" -l json -d 'Machine-readable JSON on stdout'
complete -c debvault -n "__fish_debvault_using_subcommand staged; and __fish_seen_subcommand_from list" -s q -l quiet -d 'No confirmations on stdout, no notes or progress on stderr (data, warnings and errors stay)'
complete -c debvault -n "__fish_debvault_using_subcommand staged; and __fish_seen_subcommand_from list" -s v -l verbose -d 'More detail on stderr (repeat for debug logs)'
complete -c debvault -n "__fish_debvault_using_subcommand staged; and __fish_seen_subcommand_from list" -l no-progress -d 'No progress bars (plain log lines)'
complete -c debvault -n "__fish_debvault_using_subcommand staged; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c debvault -n "__fish_debvault_using_subcommand staged; and __fish_seen_subcommand_from report" -l since -d 'Decisions since DATE (YYYY-MM-DD, RFC 3339, or a duration such as 7d)' -r
complete -c debvault -n "__fish_debvault_using_subcommand staged; and __fish_seen_subcommand_from report" -l root -d 'Data root holding the database, blobs and publications [env: DEBVAULT_ROOT]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand staged; and __fish_seen_subcommand_from report" -l config -d 'Config file [env: DEBVAULT_CONFIG]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand staged; and __fish_seen_subcommand_from report" -l changelog -d 'Add each change\'s changelog entries since the live version, their CVE IDs and urgency'
complete -c debvault -n "__fish_debvault_using_subcommand staged; and __fish_seen_subcommand_from report" -l json -d 'Machine-readable JSON on stdout'
complete -c debvault -n "__fish_debvault_using_subcommand staged; and __fish_seen_subcommand_from report" -s q -l quiet -d 'No confirmations on stdout, no notes or progress on stderr (data, warnings and errors stay)'
complete -c debvault -n "__fish_debvault_using_subcommand staged; and __fish_seen_subcommand_from report" -s v -l verbose -d 'More detail on stderr (repeat for debug logs)'
complete -c debvault -n "__fish_debvault_using_subcommand staged; and __fish_seen_subcommand_from report" -l no-progress -d 'No progress bars (plain log lines)'
complete -c debvault -n "__fish_debvault_using_subcommand staged; and __fish_seen_subcommand_from report" -s h -l help -d 'Print help'
complete -c debvault -n "__fish_debvault_using_subcommand promote" -l reason -d 'Why (recorded in the audit trail)' -r
complete -c debvault -n "__fish_debvault_using_subcommand promote" -l root -d 'Data root holding the database, blobs and publications [env: DEBVAULT_ROOT]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand promote" -l config -d 'Config file [env: DEBVAULT_CONFIG]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand promote" -l mirror -d 'NAME is a mirror (needed only when a repo has the same name)'
complete -c debvault -n "__fish_debvault_using_subcommand promote" -l repo -d 'NAME is a local repository (needed only when a mirror has the same name)'
complete -c debvault -n "__fish_debvault_using_subcommand promote" -l all -d 'Every staged change of the mirror'
complete -c debvault -n "__fish_debvault_using_subcommand promote" -l no-deps -d 'Do not follow dependencies: promote only what is named, reject even if that leaves packages uninstallable (what is left unmet is printed)'
complete -c debvault -n "__fish_debvault_using_subcommand promote" -l dry-run -d 'Show what would be decided, change nothing'
complete -c debvault -n "__fish_debvault_using_subcommand promote" -l json -d 'Machine-readable JSON on stdout'
complete -c debvault -n "__fish_debvault_using_subcommand promote" -s q -l quiet -d 'No confirmations on stdout, no notes or progress on stderr (data, warnings and errors stay)'
complete -c debvault -n "__fish_debvault_using_subcommand promote" -s v -l verbose -d 'More detail on stderr (repeat for debug logs)'
complete -c debvault -n "__fish_debvault_using_subcommand promote" -l no-progress -d 'No progress bars (plain log lines)'
complete -c debvault -n "__fish_debvault_using_subcommand promote" -s h -l help -d 'Print help'
complete -c debvault -n "__fish_debvault_using_subcommand advisories; and not __fish_seen_subcommand_from import status" -l root -d 'Data root holding the database, blobs and publications [env: DEBVAULT_ROOT]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand advisories; and not __fish_seen_subcommand_from import status" -l config -d 'Config file [env: DEBVAULT_CONFIG]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand advisories; and not __fish_seen_subcommand_from import status" -l json -d 'Machine-readable JSON on stdout'
complete -c debvault -n "__fish_debvault_using_subcommand advisories; and not __fish_seen_subcommand_from import status" -s q -l quiet -d 'No confirmations on stdout, no notes or progress on stderr (data, warnings and errors stay)'
complete -c debvault -n "__fish_debvault_using_subcommand advisories; and not __fish_seen_subcommand_from import status" -s v -l verbose -d 'More detail on stderr (repeat for debug logs)'
complete -c debvault -n "__fish_debvault_using_subcommand advisories; and not __fish_seen_subcommand_from import status" -l no-progress -d 'No progress bars (plain log lines)'
complete -c debvault -n "__fish_debvault_using_subcommand advisories; and not __fish_seen_subcommand_from import status" -s h -l help -d 'Print help'
complete -c debvault -n "__fish_debvault_using_subcommand advisories; and not __fish_seen_subcommand_from import status" -f -a "import" -d 'Import the Debian security tracker\'s JSON or OSV records (a JSON file, a directory or a zip of them)'
complete -c debvault -n "__fish_debvault_using_subcommand advisories; and not __fish_seen_subcommand_from import status" -f -a "status" -d 'List packages whose version a known advisory affects, and whether a fix is staged, upstream or absent'
complete -c debvault -n "__fish_debvault_using_subcommand advisories; and __fish_seen_subcommand_from import" -l root -d 'Data root holding the database, blobs and publications [env: DEBVAULT_ROOT]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand advisories; and __fish_seen_subcommand_from import" -l config -d 'Config file [env: DEBVAULT_CONFIG]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand advisories; and __fish_seen_subcommand_from import" -l json -d 'Machine-readable JSON on stdout'
complete -c debvault -n "__fish_debvault_using_subcommand advisories; and __fish_seen_subcommand_from import" -s q -l quiet -d 'No confirmations on stdout, no notes or progress on stderr (data, warnings and errors stay)'
complete -c debvault -n "__fish_debvault_using_subcommand advisories; and __fish_seen_subcommand_from import" -s v -l verbose -d 'More detail on stderr (repeat for debug logs)'
complete -c debvault -n "__fish_debvault_using_subcommand advisories; and __fish_seen_subcommand_from import" -l no-progress -d 'No progress bars (plain log lines)'
complete -c debvault -n "__fish_debvault_using_subcommand advisories; and __fish_seen_subcommand_from import" -s h -l help -d 'Print help'
complete -c debvault -n "__fish_debvault_using_subcommand advisories; and __fish_seen_subcommand_from status" -l mirror -d 'Only this mirror\'s live packages' -r
complete -c debvault -n "__fish_debvault_using_subcommand advisories; and __fish_seen_subcommand_from status" -l snapshot -d 'This snapshot\'s packages' -r
complete -c debvault -n "__fish_debvault_using_subcommand advisories; and __fish_seen_subcommand_from status" -l root -d 'Data root holding the database, blobs and publications [env: DEBVAULT_ROOT]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand advisories; and __fish_seen_subcommand_from status" -l config -d 'Config file [env: DEBVAULT_CONFIG]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand advisories; and __fish_seen_subcommand_from status" -l json -d 'Machine-readable JSON on stdout'
complete -c debvault -n "__fish_debvault_using_subcommand advisories; and __fish_seen_subcommand_from status" -s q -l quiet -d 'No confirmations on stdout, no notes or progress on stderr (data, warnings and errors stay)'
complete -c debvault -n "__fish_debvault_using_subcommand advisories; and __fish_seen_subcommand_from status" -s v -l verbose -d 'More detail on stderr (repeat for debug logs)'
complete -c debvault -n "__fish_debvault_using_subcommand advisories; and __fish_seen_subcommand_from status" -l no-progress -d 'No progress bars (plain log lines)'
complete -c debvault -n "__fish_debvault_using_subcommand advisories; and __fish_seen_subcommand_from status" -s h -l help -d 'Print help'
complete -c debvault -n "__fish_debvault_using_subcommand reject" -l reason -d 'Why (recorded in the audit trail)' -r
complete -c debvault -n "__fish_debvault_using_subcommand reject" -l root -d 'Data root holding the database, blobs and publications [env: DEBVAULT_ROOT]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand reject" -l config -d 'Config file [env: DEBVAULT_CONFIG]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand reject" -l mirror -d 'NAME is a mirror (needed only when a repo has the same name)'
complete -c debvault -n "__fish_debvault_using_subcommand reject" -l repo -d 'NAME is a local repository (needed only when a mirror has the same name)'
complete -c debvault -n "__fish_debvault_using_subcommand reject" -l all -d 'Every staged change of the mirror'
complete -c debvault -n "__fish_debvault_using_subcommand reject" -l no-deps -d 'Do not follow dependencies: promote only what is named, reject even if that leaves packages uninstallable (what is left unmet is printed)'
complete -c debvault -n "__fish_debvault_using_subcommand reject" -l dry-run -d 'Show what would be decided, change nothing'
complete -c debvault -n "__fish_debvault_using_subcommand reject" -l json -d 'Machine-readable JSON on stdout'
complete -c debvault -n "__fish_debvault_using_subcommand reject" -s q -l quiet -d 'No confirmations on stdout, no notes or progress on stderr (data, warnings and errors stay)'
complete -c debvault -n "__fish_debvault_using_subcommand reject" -s v -l verbose -d 'More detail on stderr (repeat for debug logs)'
complete -c debvault -n "__fish_debvault_using_subcommand reject" -l no-progress -d 'No progress bars (plain log lines)'
complete -c debvault -n "__fish_debvault_using_subcommand reject" -s h -l help -d 'Print help'
complete -c debvault -n "__fish_debvault_using_subcommand audit" -l since -d 'Only records since DATE (YYYY-MM-DD, RFC 3339, or a duration such as 30d)' -r
complete -c debvault -n "__fish_debvault_using_subcommand audit" -l root -d 'Data root holding the database, blobs and publications [env: DEBVAULT_ROOT]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand audit" -l config -d 'Config file [env: DEBVAULT_CONFIG]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand audit" -l json -d 'Machine-readable JSON on stdout'
complete -c debvault -n "__fish_debvault_using_subcommand audit" -s q -l quiet -d 'No confirmations on stdout, no notes or progress on stderr (data, warnings and errors stay)'
complete -c debvault -n "__fish_debvault_using_subcommand audit" -s v -l verbose -d 'More detail on stderr (repeat for debug logs)'
complete -c debvault -n "__fish_debvault_using_subcommand audit" -l no-progress -d 'No progress bars (plain log lines)'
complete -c debvault -n "__fish_debvault_using_subcommand audit" -s h -l help -d 'Print help'
complete -c debvault -n "__fish_debvault_using_subcommand status" -l prometheus -d 'Also write the figures in Prometheus text format to FILE (atomically; for a textfile collector)' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand status" -l max-age -d 'With --check: how old the last successful sync may be' -r
complete -c debvault -n "__fish_debvault_using_subcommand status" -l max-open-advisories -d 'With --check: also fail when more than N advisories affect live packages (see `advisories status`)' -r
complete -c debvault -n "__fish_debvault_using_subcommand status" -l root -d 'Data root holding the database, blobs and publications [env: DEBVAULT_ROOT]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand status" -l config -d 'Config file [env: DEBVAULT_CONFIG]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand status" -l check -d 'Exit 1 when a mirror is stale or upstream changed a package under its version, or a publication has expired; with -q, print nothing unless so'
complete -c debvault -n "__fish_debvault_using_subcommand status" -l json -d 'Machine-readable JSON on stdout'
complete -c debvault -n "__fish_debvault_using_subcommand status" -s q -l quiet -d 'No confirmations on stdout, no notes or progress on stderr (data, warnings and errors stay)'
complete -c debvault -n "__fish_debvault_using_subcommand status" -s v -l verbose -d 'More detail on stderr (repeat for debug logs)'
complete -c debvault -n "__fish_debvault_using_subcommand status" -l no-progress -d 'No progress bars (plain log lines)'
complete -c debvault -n "__fish_debvault_using_subcommand status" -s h -l help -d 'Print help'
complete -c debvault -n "__fish_debvault_using_subcommand gc" -l grace -d 'How long retired publication trees (and pool files only they list) stay for clients mid-update' -r
complete -c debvault -n "__fish_debvault_using_subcommand gc" -l root -d 'Data root holding the database, blobs and publications [env: DEBVAULT_ROOT]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand gc" -l config -d 'Config file [env: DEBVAULT_CONFIG]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand gc" -l dry-run -d 'Report what would be removed; remove nothing'
complete -c debvault -n "__fish_debvault_using_subcommand gc" -l json -d 'Machine-readable JSON on stdout'
complete -c debvault -n "__fish_debvault_using_subcommand gc" -s q -l quiet -d 'No confirmations on stdout, no notes or progress on stderr (data, warnings and errors stay)'
complete -c debvault -n "__fish_debvault_using_subcommand gc" -s v -l verbose -d 'More detail on stderr (repeat for debug logs)'
complete -c debvault -n "__fish_debvault_using_subcommand gc" -l no-progress -d 'No progress bars (plain log lines)'
complete -c debvault -n "__fish_debvault_using_subcommand gc" -s h -l help -d 'Print help'
complete -c debvault -n "__fish_debvault_using_subcommand verify" -l sample -d 'Percentage of blobs to re-hash (presence and size of all are always checked)' -r
complete -c debvault -n "__fish_debvault_using_subcommand verify" -l root -d 'Data root holding the database, blobs and publications [env: DEBVAULT_ROOT]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand verify" -l config -d 'Config file [env: DEBVAULT_CONFIG]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand verify" -l json -d 'Machine-readable JSON on stdout'
complete -c debvault -n "__fish_debvault_using_subcommand verify" -s q -l quiet -d 'No confirmations on stdout, no notes or progress on stderr (data, warnings and errors stay)'
complete -c debvault -n "__fish_debvault_using_subcommand verify" -s v -l verbose -d 'More detail on stderr (repeat for debug logs)'
complete -c debvault -n "__fish_debvault_using_subcommand verify" -l no-progress -d 'No progress bars (plain log lines)'
complete -c debvault -n "__fish_debvault_using_subcommand verify" -s h -l help -d 'Print help'
complete -c debvault -n "__fish_debvault_using_subcommand db; and not __fish_seen_subcommand_from backup restore" -l root -d 'Data root holding the database, blobs and publications [env: DEBVAULT_ROOT]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand db; and not __fish_seen_subcommand_from backup restore" -l config -d 'Config file [env: DEBVAULT_CONFIG]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand db; and not __fish_seen_subcommand_from backup restore" -l json -d 'Machine-readable JSON on stdout'
complete -c debvault -n "__fish_debvault_using_subcommand db; and not __fish_seen_subcommand_from backup restore" -s q -l quiet -d 'No confirmations on stdout, no notes or progress on stderr (data, warnings and errors stay)'
complete -c debvault -n "__fish_debvault_using_subcommand db; and not __fish_seen_subcommand_from backup restore" -s v -l verbose -d 'More detail on stderr (repeat for debug logs)'
complete -c debvault -n "__fish_debvault_using_subcommand db; and not __fish_seen_subcommand_from backup restore" -l no-progress -d 'No progress bars (plain log lines)'
complete -c debvault -n "__fish_debvault_using_subcommand db; and not __fish_seen_subcommand_from backup restore" -s h -l help -d 'Print help'
complete -c debvault -n "__fish_debvault_using_subcommand db; and not __fish_seen_subcommand_from backup restore" -f -a "backup" -d 'Copy the database and the signing keys (consistently, while other commands run) to a file or `s3://bucket/key` (0600), with `<DEST>.manifest.json` (size, SHA256, schema version, key files) beside it; a killed backup leaves the previous one whole'
complete -c debvault -n "__fish_debvault_using_subcommand db; and not __fish_seen_subcommand_from backup restore" -f -a "restore" -d 'Replace the database by a backup after checking it against its manifest, and put back the signing keys the data root lacks; the current database is kept as `debvault.db.pre-restore-<time>`'
complete -c debvault -n "__fish_debvault_using_subcommand db; and __fish_seen_subcommand_from backup" -l root -d 'Data root holding the database, blobs and publications [env: DEBVAULT_ROOT]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand db; and __fish_seen_subcommand_from backup" -l config -d 'Config file [env: DEBVAULT_CONFIG]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand db; and __fish_seen_subcommand_from backup" -l no-keys -d 'Leave the signing keys out (for a destination less trusted than the data root)'
complete -c debvault -n "__fish_debvault_using_subcommand db; and __fish_seen_subcommand_from backup" -l json -d 'Machine-readable JSON on stdout'
complete -c debvault -n "__fish_debvault_using_subcommand db; and __fish_seen_subcommand_from backup" -s q -l quiet -d 'No confirmations on stdout, no notes or progress on stderr (data, warnings and errors stay)'
complete -c debvault -n "__fish_debvault_using_subcommand db; and __fish_seen_subcommand_from backup" -s v -l verbose -d 'More detail on stderr (repeat for debug logs)'
complete -c debvault -n "__fish_debvault_using_subcommand db; and __fish_seen_subcommand_from backup" -l no-progress -d 'No progress bars (plain log lines)'
complete -c debvault -n "__fish_debvault_using_subcommand db; and __fish_seen_subcommand_from backup" -s h -l help -d 'Print help'
complete -c debvault -n "__fish_debvault_using_subcommand db; and __fish_seen_subcommand_from restore" -l root -d 'Data root holding the database, blobs and publications [env: DEBVAULT_ROOT]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand db; and __fish_seen_subcommand_from restore" -l config -d 'Config file [env: DEBVAULT_CONFIG]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand db; and __fish_seen_subcommand_from restore" -l json -d 'Machine-readable JSON on stdout'
complete -c debvault -n "__fish_debvault_using_subcommand db; and __fish_seen_subcommand_from restore" -s q -l quiet -d 'No confirmations on stdout, no notes or progress on stderr (data, warnings and errors stay)'
complete -c debvault -n "__fish_debvault_using_subcommand db; and __fish_seen_subcommand_from restore" -s v -l verbose -d 'More detail on stderr (repeat for debug logs)'
complete -c debvault -n "__fish_debvault_using_subcommand db; and __fish_seen_subcommand_from restore" -l no-progress -d 'No progress bars (plain log lines)'
complete -c debvault -n "__fish_debvault_using_subcommand db; and __fish_seen_subcommand_from restore" -s h -l help -d 'Print help'
complete -c debvault -n "__fish_debvault_using_subcommand serve" -l listen -d 'Address and port to listen on' -r
complete -c debvault -n "__fish_debvault_using_subcommand serve" -l dir -d 'Directory (or `s3://bucket/prefix`) to serve [default: the publish endpoint, `[storage] publish`]' -r
complete -c debvault -n "__fish_debvault_using_subcommand serve" -l idle-timeout -d 'Close a connection that accepts no bytes of a response (or sends no complete request head) for this long: `90s`, `2m` [default: 60s, `[serve] idle-timeout`]' -r
complete -c debvault -n "__fish_debvault_using_subcommand serve" -l max-connections -d 'Connections served at once; further ones wait to be accepted [default: 1024, `[serve] max-connections`]' -r
complete -c debvault -n "__fish_debvault_using_subcommand serve" -l root -d 'Data root holding the database, blobs and publications [env: DEBVAULT_ROOT]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand serve" -l config -d 'Config file [env: DEBVAULT_CONFIG]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand serve" -l api -d 'Also answer the HTTP API for CI under `/api/` (bearer tokens from `debvault token create`; see docs/API.md) [default: `[serve] api`]'
complete -c debvault -n "__fish_debvault_using_subcommand serve" -l json -d 'Machine-readable JSON on stdout'
complete -c debvault -n "__fish_debvault_using_subcommand serve" -s q -l quiet -d 'No confirmations on stdout, no notes or progress on stderr (data, warnings and errors stay)'
complete -c debvault -n "__fish_debvault_using_subcommand serve" -s v -l verbose -d 'More detail on stderr (repeat for debug logs)'
complete -c debvault -n "__fish_debvault_using_subcommand serve" -l no-progress -d 'No progress bars (plain log lines)'
complete -c debvault -n "__fish_debvault_using_subcommand serve" -s h -l help -d 'Print help'
complete -c debvault -n "__fish_debvault_using_subcommand token; and not __fish_seen_subcommand_from create list revoke" -l root -d 'Data root holding the database, blobs and publications [env: DEBVAULT_ROOT]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand token; and not __fish_seen_subcommand_from create list revoke" -l config -d 'Config file [env: DEBVAULT_CONFIG]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand token; and not __fish_seen_subcommand_from create list revoke" -l json -d 'Machine-readable JSON on stdout'
complete -c debvault -n "__fish_debvault_using_subcommand token; and not __fish_seen_subcommand_from create list revoke" -s q -l quiet -d 'No confirmations on stdout, no notes or progress on stderr (data, warnings and errors stay)'
complete -c debvault -n "__fish_debvault_using_subcommand token; and not __fish_seen_subcommand_from create list revoke" -s v -l verbose -d 'More detail on stderr (repeat for debug logs)'
complete -c debvault -n "__fish_debvault_using_subcommand token; and not __fish_seen_subcommand_from create list revoke" -l no-progress -d 'No progress bars (plain log lines)'
complete -c debvault -n "__fish_debvault_using_subcommand token; and not __fish_seen_subcommand_from create list revoke" -s h -l help -d 'Print help'
complete -c debvault -n "__fish_debvault_using_subcommand token; and not __fish_seen_subcommand_from create list revoke" -f -a "create" -d 'Create a token for the HTTP API and print it (once: only its hash is kept)'
complete -c debvault -n "__fish_debvault_using_subcommand token; and not __fish_seen_subcommand_from create list revoke" -f -a "list" -d 'List tokens (names, scopes, repos; never a secret)'
complete -c debvault -n "__fish_debvault_using_subcommand token; and not __fish_seen_subcommand_from create list revoke" -f -a "revoke" -d 'Revoke a token: requests carrying it answer 401 from now on'
complete -c debvault -n "__fish_debvault_using_subcommand token; and __fish_seen_subcommand_from create" -l scope -d 'What it may do: `upload` (files, repo add), `publish` (snapshots, publish, switch), `admin` (everything); comma-separated or repeated' -r
complete -c debvault -n "__fish_debvault_using_subcommand token; and __fish_seen_subcommand_from create" -l repo -d 'Limit it to this repo (repeatable) [default: every repo]' -r
complete -c debvault -n "__fish_debvault_using_subcommand token; and __fish_seen_subcommand_from create" -l root -d 'Data root holding the database, blobs and publications [env: DEBVAULT_ROOT]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand token; and __fish_seen_subcommand_from create" -l config -d 'Config file [env: DEBVAULT_CONFIG]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand token; and __fish_seen_subcommand_from create" -l json -d 'Machine-readable JSON on stdout'
complete -c debvault -n "__fish_debvault_using_subcommand token; and __fish_seen_subcommand_from create" -s q -l quiet -d 'No confirmations on stdout, no notes or progress on stderr (data, warnings and errors stay)'
complete -c debvault -n "__fish_debvault_using_subcommand token; and __fish_seen_subcommand_from create" -s v -l verbose -d 'More detail on stderr (repeat for debug logs)'
complete -c debvault -n "__fish_debvault_using_subcommand token; and __fish_seen_subcommand_from create" -l no-progress -d 'No progress bars (plain log lines)'
complete -c debvault -n "__fish_debvault_using_subcommand token; and __fish_seen_subcommand_from create" -s h -l help -d 'Print help'
complete -c debvault -n "__fish_debvault_using_subcommand token; and __fish_seen_subcommand_from list" -l root -d 'Data root holding the database, blobs and publications [env: DEBVAULT_ROOT]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand token; and __fish_seen_subcommand_from list" -l config -d 'Config file [env: DEBVAULT_CONFIG]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand token; and __fish_seen_subcommand_from list" -l json -d 'Machine-readable JSON on stdout'
complete -c debvault -n "__fish_debvault_using_subcommand token; and __fish_seen_subcommand_from list" -s q -l quiet -d 'No confirmations on stdout, no notes or progress on stderr (data, warnings and errors stay)'
complete -c debvault -n "__fish_debvault_using_subcommand token; and __fish_seen_subcommand_from list" -s v -l verbose -d 'More detail on stderr (repeat for debug logs)'
complete -c debvault -n "__fish_debvault_using_subcommand token; and __fish_seen_subcommand_from list" -l no-progress -d 'No progress bars (plain log lines)'
complete -c debvault -n "__fish_debvault_using_subcommand token; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c debvault -n "__fish_debvault_using_subcommand token; and __fish_seen_subcommand_from revoke" -l root -d 'Data root holding the database, blobs and publications [env: DEBVAULT_ROOT]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand token; and __fish_seen_subcommand_from revoke" -l config -d 'Config file [env: DEBVAULT_CONFIG]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand token; and __fish_seen_subcommand_from revoke" -l json -d 'Machine-readable JSON on stdout'
complete -c debvault -n "__fish_debvault_using_subcommand token; and __fish_seen_subcommand_from revoke" -s q -l quiet -d 'No confirmations on stdout, no notes or progress on stderr (data, warnings and errors stay)'
complete -c debvault -n "__fish_debvault_using_subcommand token; and __fish_seen_subcommand_from revoke" -s v -l verbose -d 'More detail on stderr (repeat for debug logs)'
complete -c debvault -n "__fish_debvault_using_subcommand token; and __fish_seen_subcommand_from revoke" -l no-progress -d 'No progress bars (plain log lines)'
complete -c debvault -n "__fish_debvault_using_subcommand token; and __fish_seen_subcommand_from revoke" -s h -l help -d 'Print help'
complete -c debvault -n "__fish_debvault_using_subcommand config; and not __fish_seen_subcommand_from show" -l root -d 'Data root holding the database, blobs and publications [env: DEBVAULT_ROOT]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand config; and not __fish_seen_subcommand_from show" -l config -d 'Config file [env: DEBVAULT_CONFIG]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand config; and not __fish_seen_subcommand_from show" -l json -d 'Machine-readable JSON on stdout'
complete -c debvault -n "__fish_debvault_using_subcommand config; and not __fish_seen_subcommand_from show" -s q -l quiet -d 'No confirmations on stdout, no notes or progress on stderr (data, warnings and errors stay)'
complete -c debvault -n "__fish_debvault_using_subcommand config; and not __fish_seen_subcommand_from show" -s v -l verbose -d 'More detail on stderr (repeat for debug logs)'
complete -c debvault -n "__fish_debvault_using_subcommand config; and not __fish_seen_subcommand_from show" -l no-progress -d 'No progress bars (plain log lines)'
complete -c debvault -n "__fish_debvault_using_subcommand config; and not __fish_seen_subcommand_from show" -s h -l help -d 'Print help'
complete -c debvault -n "__fish_debvault_using_subcommand config; and not __fish_seen_subcommand_from show" -f -a "show" -d 'Print the resolved settings and where each came from'
complete -c debvault -n "__fish_debvault_using_subcommand config; and __fish_seen_subcommand_from show" -l root -d 'Data root holding the database, blobs and publications [env: DEBVAULT_ROOT]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand config; and __fish_seen_subcommand_from show" -l config -d 'Config file [env: DEBVAULT_CONFIG]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand config; and __fish_seen_subcommand_from show" -l json -d 'Machine-readable JSON on stdout'
complete -c debvault -n "__fish_debvault_using_subcommand config; and __fish_seen_subcommand_from show" -s q -l quiet -d 'No confirmations on stdout, no notes or progress on stderr (data, warnings and errors stay)'
complete -c debvault -n "__fish_debvault_using_subcommand config; and __fish_seen_subcommand_from show" -s v -l verbose -d 'More detail on stderr (repeat for debug logs)'
complete -c debvault -n "__fish_debvault_using_subcommand config; and __fish_seen_subcommand_from show" -l no-progress -d 'No progress bars (plain log lines)'
complete -c debvault -n "__fish_debvault_using_subcommand config; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help'
complete -c debvault -n "__fish_debvault_using_subcommand generate" -l root -d 'Data root holding the database, blobs and publications [env: DEBVAULT_ROOT]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand generate" -l config -d 'Config file [env: DEBVAULT_CONFIG]' -r -F
complete -c debvault -n "__fish_debvault_using_subcommand generate" -l json -d 'Machine-readable JSON on stdout'
complete -c debvault -n "__fish_debvault_using_subcommand generate" -s q -l quiet -d 'No confirmations on stdout, no notes or progress on stderr (data, warnings and errors stay)'
complete -c debvault -n "__fish_debvault_using_subcommand generate" -s v -l verbose -d 'More detail on stderr (repeat for debug logs)'
complete -c debvault -n "__fish_debvault_using_subcommand generate" -l no-progress -d 'No progress bars (plain log lines)'
complete -c debvault -n "__fish_debvault_using_subcommand generate" -s h -l help -d 'Print help'
