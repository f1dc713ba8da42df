// Every option of the option reference, in its order and groups. The usage
// column keeps the reference's argument syntax; the help is our own wording.
// An entry with an empty usage is documented together with the entry before
// it ("-fda/-fdb file").
#include <array>

#include "options/table.hpp"

namespace tessera {
namespace {

using G = OptionGroup;
constexpr bool ARG = true;
constexpr bool NOARG = false;

constexpr std::array kOptions = std::to_array<OptionDef>({
    // ------------------------------------------------------------ Standard
    {"help", NOARG, G::Standard, "-h or -help", "print this help and exit"},
    {"version", NOARG, G::Standard, "-version", "print the version and exit"},
    {"machine", ARG, G::Standard, "-machine [type=]name[,prop[=value][,...]]",
     "choose the board to emulate ('-machine help' lists them)\n"
     "accel=accel1[:accel2[:...]] picks accelerators in order of preference (tcg)\n"
     "dump-guest-core=on|off, mem-merge=on|off, suppress-vmdesc=on|off\n"
     "memory-backend=id uses the memory backend object 'id' as main RAM\n"
     "further prop=value pairs set board properties ('-machine name,help')"},
    {"M", ARG, G::Standard, "-M [type=]name[,prop[=value][,...]]",
     "short form of -machine"},
    {"cpu", ARG, G::Standard, "-cpu cpu", "choose the CPU model ('-cpu help' lists them)"},
    {"accel", ARG, G::Standard, "-accel [accel=]accelerator[,prop[=value][,...]]",
     "choose how guest code runs ('-accel help' lists accelerators; tcg here)\n"
     "thread=single|multi runs all vCPUs on one thread or one thread each\n"
     "tb-size=n sets the translation cache size in MiB\n"
     "one-insn-per-tb=on|off translates one instruction per block (debugging)\n"
     "split-wx=on|off maps translated code separately for write and execute"},
    {"smp", ARG, G::Standard,
     "-smp [[cpus=]n][,maxcpus=maxcpus][,drawers=drawers][,books=books][,sockets=sockets]\n"
     "               [,dies=dies][,clusters=clusters][,cores=cores][,threads=threads]",
     "number of vCPUs at start-up (default 1) and the CPU topology\n"
     "maxcpus= counts hot-pluggable vCPUs too; sockets, cores, threads and the\n"
     "other levels describe how the vCPUs nest; a board ignores levels it does\n"
     "not model, which must then be 1"},
    {"numa", ARG, G::Standard,
     "-numa node[,mem=size][,cpus=firstcpu[-lastcpu]][,nodeid=node][,initiator=node]\n"
     "-numa node[,memdev=id][,cpus=firstcpu[-lastcpu]][,nodeid=node][,initiator=node]\n"
     "-numa dist,src=source,dst=destination,val=distance\n"
     "-numa cpu,node-id=node[,socket-id=x][,core-id=y][,thread-id=z]\n"
     "-numa hmat-lb,initiator=node,target=node,hierarchy=memory|first-level|second-level|third-level,"
     "data-type=access-latency|read-latency|write-latency[,latency=lat][,bandwidth=bw]\n"
     "-numa hmat-cache,node-id=node,size=size,level=level[,associativity=none|direct|complex]"
     "[,policy=none|write-back|write-through][,line=size]",
     "describe NUMA nodes: their memory and vCPUs, the distances between\n"
     "them, and memory latency, bandwidth and cache attributes"},
    {"add-fd", ARG, G::Standard, "-add-fd fd=fd,set=set[,opaque=opaque]",
     "put the inherited file descriptor 'fd' into descriptor set 'set'"},
    {"set", ARG, G::Standard, "-set group.id.arg=value",
     "change parameter 'arg' of the option 'id' in group 'group' given elsewhere\n"
     "(for example -set drive.d0.file=disk.img)"},
    {"global", ARG, G::Standard,
     "-global driver.property=value\n"
     "-global driver=driver,property=property,value=value",
     "change the default of a device property for every device of that driver"},
    {"boot", ARG, G::Standard,
     "-boot [order=drives][,once=drives][,menu=on|off]\n"
     "      [,splash=sp_name][,splash-time=sp_time][,reboot-timeout=rb_time][,strict=on|off]",
     "firmware boot settings: device order as letters (a floppy, c disk,\n"
     "d CD-ROM, n network), a one-time order, a boot menu with splash image\n"
     "and time in ms, and the delay in ms before retrying a failed boot"},
    {"m", ARG, G::Standard, "-m [size=]megs[,slots=n,maxmem=size]",
     "guest RAM size (MiB unless a suffix is given); slots and maxmem leave\n"
     "room for memory hot-plug; boards may round the size"},
    {"mem-path", ARG, G::Standard, "-mem-path FILE",
     "back guest RAM with a file created in FILE's directory (e.g. hugetlbfs)"},
    {"mem-prealloc", NOARG, G::Standard, "-mem-prealloc",
     "touch all guest RAM at start-up (mostly with -mem-path)"},
    {"k", ARG, G::Standard, "-k language", "keyboard layout for displays that need one (e.g. 'de')"},
    {"audio", ARG, G::Standard,
     "-audio [driver=]driver[,prop[=value][,...]]\n"
     "-audio [driver=]driver,model=value[,prop[=value][,...]]",
     "create an audio backend and, with model=, a sound card using it\n"
     "(properties as for -audiodev; 'model=help' lists sound cards)"},
    {"audiodev", ARG, G::Standard,
     "-audiodev [driver=]driver,id=id[,prop[=value][,...]]",
     "create the audio backend 'id' ('-audiodev help' lists drivers: none,\n"
     "wav, alsa, pa, ...); in.* and out.* set the stream formats, e.g.\n"
     "out.frequency=, out.channels=, out.format=s16, out.buffer-length="},
    {"device", ARG, G::Standard, "-device driver[,prop[=value][,...]]",
     "plug in a device of type 'driver' with the given properties\n"
     "'-device help' lists drivers, '-device driver,help' their properties;\n"
     "a JSON object is accepted as well"},
    {"name", ARG, G::Standard, "-name string1[,process=string2][,debug-threads=on|off]",
     "name the guest (window title); process= renames the host process,\n"
     "debug-threads=on names each host thread (for debugging only)"},
    {"uuid", ARG, G::Standard, "-uuid %08x-%04x-%04x-%04x-%012x",
     "the machine's UUID as seen by firmware"},

    // ------------------------------------------------------------ Block
    {"fda", ARG, G::Block, "-fda/-fdb file", "floppy disk 0/1 image"},
    {"fdb", ARG, G::Block, "", ""},
    {"hda", ARG, G::Block, "-hda/-hdb file", "hard disk 0/1 image"},
    {"hdb", ARG, G::Block, "", ""},
    {"hdc", ARG, G::Block, "-hdc/-hdd file", "hard disk 2/3 image"},
    {"hdd", ARG, G::Block, "", ""},
    {"cdrom", ARG, G::Block, "-cdrom file", "CD-ROM image"},
    {"blockdev", ARG, G::Block,
     "-blockdev [driver=]driver[,node-name=N][,discard=ignore|unmap]\n"
     "          [,cache.direct=on|off][,cache.no-flush=on|off]\n"
     "          [,read-only=on|off][,auto-read-only=on|off]\n"
     "          [,force-share=on|off][,detect-zeroes=on|off|unmap]\n"
     "          [,driver specific parameters...]",
     "add one node of a block graph (a format or protocol driver);\n"
     "also accepts a JSON object"},
    {"drive", ARG, G::Block,
     "-drive [file=file][,if=type][,bus=n][,unit=m][,media=d][,index=i]\n"
     "       [,cache=writethrough|writeback|none|directsync|unsafe][,format=f]\n"
     "       [,snapshot=on|off][,rerror=ignore|stop|report]\n"
     "       [,werror=ignore|stop|report|enospc][,id=name]\n"
     "       [,aio=threads|native|io_uring]\n"
     "       [,readonly=on|off][,copy-on-read=on|off]\n"
     "       [,discard=ignore|unmap][,detect-zeroes=on|off|unmap]\n"
     "       [[,bps=b]|[[,bps_rd=r][,bps_wr=w]]]\n"
     "       [[,iops=i]|[[,iops_rd=r][,iops_wr=w]]]\n"
     "       [[,bps_max=bm]|[[,bps_rd_max=rm][,bps_wr_max=wm]]]\n"
     "       [[,iops_max=im]|[[,iops_rd_max=irm][,iops_wr_max=iwm]]]\n"
     "       [[,iops_size=is]]\n"
     "       [[,group=g]]",
     "add a disk: its image, how it attaches (if=virtio, none, ...), caching,\n"
     "error policy and I/O limits"},
    {"mtdblock", ARG, G::Block, "-mtdblock file", "image for the board's on-board flash"},
    {"sd", ARG, G::Block, "-sd file", "SD card image"},
    {"snapshot", NOARG, G::Block, "-snapshot",
     "keep disk images unchanged: writes go to temporary overlays"},
    {"fsdev", ARG, G::Block,
     "-fsdev local,id=id,path=path,security_model=mapped-xattr|mapped-file|passthrough|none\n"
     " [,writeout=immediate][,readonly=on][,fmode=fmode][,dmode=dmode]\n"
     " [[,throttling.bps-total=b]|[[,throttling.bps-read=r][,throttling.bps-write=w]]]\n"
     " [[,throttling.iops-total=i]|[[,throttling.iops-read=r][,throttling.iops-write=w]]]\n"
     " [[,throttling.bps-total-max=bm]|[[,throttling.bps-read-max=rm][,throttling.bps-write-max=wm]]]\n"
     " [[,throttling.iops-total-max=im]|[[,throttling.iops-read-max=irm][,throttling.iops-write-max=iwm]]]\n"
     " [[,throttling.iops-size=is]]\n"
     "-fsdev proxy,id=id,socket=socket[,writeout=immediate][,readonly=on]\n"
     "-fsdev proxy,id=id,sock_fd=sock_fd[,writeout=immediate][,readonly=on]\n"
     "-fsdev synth,id=id",
     "define a host directory to share with the guest over 9p"},
    {"virtfs", ARG, G::Block,
     "-virtfs local,path=path,mount_tag=tag,security_model=mapped-xattr|mapped-file|passthrough|none\n"
     "        [,id=id][,writeout=immediate][,readonly=on][,fmode=fmode][,dmode=dmode]"
     "[,multidevs=remap|forbid|warn]\n"
     "-virtfs proxy,mount_tag=tag,socket=socket[,id=id][,writeout=immediate][,readonly=on]\n"
     "-virtfs proxy,mount_tag=tag,sock_fd=sock_fd[,id=id][,writeout=immediate][,readonly=on]\n"
     "-virtfs synth,mount_tag=tag[,id=id][,readonly=on]",
     "share a host directory over 9p: -fsdev plus its virtio device in one"},
    {"iscsi", ARG, G::Block,
     "-iscsi [user=user][,password=password][,password-secret=secret-id]\n"
     "       [,header-digest=CRC32C|CR32C-NONE|NONE-CRC32C|NONE]\n"
     "       [,initiator-name=initiator-iqn][,id=target-iqn]\n"
     "       [,timeout=timeout]",
     "login and session settings for iSCSI disks"},

    // ------------------------------------------------------------ USB
    {"usb", NOARG, G::Usb, "-usb", "add the board's USB host controller if it has none yet"},
    {"usbdevice", ARG, G::Usb, "-usbdevice name", "plug the USB device 'name' into the guest"},

    // ------------------------------------------------------------ Display
    {"display", ARG, G::Display,
     "-display sdl[,gl=on|core|es|off][,grab-mod=<mod>][,show-cursor=on|off]\n"
     "            [,window-close=on|off]\n"
     "-display gtk[,full-screen=on|off][,gl=on|off][,grab-on-hover=on|off]\n"
     "            [,show-tabs=on|off][,show-cursor=on|off][,window-close=on|off]\n"
     "            [,show-menubar=on|off][,zoom-to-fit=on|off]\n"
     "-display vnc=<display>[,<optargs>]\n"
     "-display curses[,charset=<encoding>]\n"
     "-display egl-headless[,rendernode=<file>]\n"
     "-display dbus[,addr=<dbusaddr>]\n"
     "             [,gl=on|core|es|off][,rendernode=<file>]\n"
     "-display none",
     "choose where the guest's screen is shown; 'none' shows it nowhere\n"
     "(the guest still has a graphics card)"},
    {"nographic", NOARG, G::Display, "-nographic",
     "no graphical output; serial port and monitor share the terminal"},
    {"spice", ARG, G::Display,
     "-spice [port=port][,tls-port=secured-port][,x509-dir=<dir>]\n"
     "       [,x509-key-file=<file>][,x509-key-password=<file>]\n"
     "       [,x509-cert-file=<file>][,x509-cacert-file=<file>]\n"
     "       [,x509-dh-key-file=<file>][,addr=addr]\n"
     "       [,ipv4=on|off][,ipv6=on|off][,unix=on|off]\n"
     "       [,tls-ciphers=<list>]\n"
     "       [,tls-channel=[main|display|cursor|inputs|record|playback]]\n"
     "       [,plaintext-channel=[main|display|cursor|inputs|record|playback]]\n"
     "       [,sasl=on|off][,disable-ticketing=on|off]\n"
     "       [,password-secret=<secret-id>]\n"
     "       [,image-compression=[auto_glz|auto_lz|quic|glz|lz|off]]\n"
     "       [,jpeg-wan-compression=[auto|never|always]]\n"
     "       [,zlib-glz-wan-compression=[auto|never|always]]\n"
     "       [,streaming-video=[off|all|filter]][,disable-copy-paste=on|off]\n"
     "       [,disable-agent-file-xfer=on|off][,agent-mouse=[on|off]]\n"
     "       [,playback-compression=[on|off]][,seamless-migration=[on|off]]\n"
     "       [,gl=[on|off]][,rendernode=<file>]",
     "serve the display over the SPICE protocol; port or tls-port is required"},
    {"portrait", NOARG, G::Display, "-portrait", "turn the screen 90 degrees left (PXA LCD only)"},
    {"rotate", ARG, G::Display, "-rotate <deg>", "turn the screen by <deg> degrees left (PXA LCD only)"},
    {"vga", ARG, G::Display, "-vga [std|cirrus|vmware|qxl|xenfb|tcx|cg3|virtio|none]",
     "choose the graphics card"},
    {"full-screen", NOARG, G::Display, "-full-screen", "open the display full screen"},
    {"g", ARG, G::Display, "-g WxH[xDEPTH]", "initial screen size and colour depth"},
    {"vnc", ARG, G::Display, "-vnc <display>", "same as -display vnc=<display>"},
    // The reference lists these four under an i386-only heading; they keep
    // the Display group that precedes it.
    {"win2k-hack", NOARG, G::Display, "-win2k-hack",
     "work around a disk-full bug of the Windows 2000 installer (x86)"},
    {"no-fd-bootchk", NOARG, G::Display, "-no-fd-bootchk",
     "boot from floppies without a boot signature (x86)"},
    {"acpitable", ARG, G::Display,
     "-acpitable [sig=str][,rev=n][,oem_id=str][,oem_table_id=str][,oem_rev=n]"
     "[,asl_compiler_id=str][,asl_compiler_rev=n][,{data|file}=file1[:file2]...]",
     "add an ACPI table built from the given header fields and files"},
    {"smbios", ARG, G::Display,
     "-smbios file=binary\n"
     "-smbios type=0[,vendor=str][,version=str][,date=str][,release=%d.%d]\n"
     "              [,uefi=on|off]\n"
     "-smbios type=1[,manufacturer=str][,product=str][,version=str][,serial=str]\n"
     "              [,uuid=uuid][,sku=str][,family=str]\n"
     "-smbios type=2[,manufacturer=str][,product=str][,version=str][,serial=str]\n"
     "              [,asset=str][,location=str]\n"
     "-smbios type=3[,manufacturer=str][,version=str][,serial=str][,asset=str]\n"
     "              [,sku=str]\n"
     "-smbios type=4[,sock_pfx=str][,manufacturer=str][,version=str][,serial=str]\n"
     "              [,asset=str][,part=str][,max-speed=%d][,current-speed=%d]\n"
     "              [,processor-family=%d,processor-id=%d]\n"
     "-smbios type=8[,external_reference=str][,internal_reference=str]"
     "[,connector_type=%d][,port_type=%d]\n"
     "-smbios type=11[,value=str][,path=filename]\n"
     "-smbios type=17[,loc_pfx=str][,bank=str][,manufacturer=str][,serial=str]\n"
     "               [,asset=str][,part=str][,speed=%d]\n"
     "-smbios type=41[,designation=str][,kind=str][,instance=%d][,pcidev=str]",
     "set SMBIOS tables from a binary file or field by field per table type"},

    // ------------------------------------------------------------ Network
    {"netdev", ARG, G::Network,
     "-netdev user,id=str[,ipv4=on|off][,net=addr[/mask]][,host=addr]\n"
     "         [,ipv6=on|off][,ipv6-net=addr[/int]][,ipv6-host=addr]\n"
     "         [,restrict=on|off][,hostname=host][,dhcpstart=addr]\n"
     "         [,dns=addr][,ipv6-dns=addr][,dnssearch=domain][,domainname=domain]\n"
     "         [,tftp=dir][,tftp-server-name=name][,bootfile=f][,hostfwd=rule][,guestfwd=rule]"
     "[,smb=dir[,smbserver=addr]]\n"
     "-netdev tap,id=str[,fd=h][,fds=x:y:...:z][,ifname=name][,script=file][,downscript=dfile]\n"
     "         [,br=bridge][,helper=helper][,sndbuf=nbytes][,vnet_hdr=on|off][,vhost=on|off]\n"
     "         [,vhostfd=h][,vhostfds=x:y:...:z][,vhostforce=on|off][,queues=n]\n"
     "         [,poll-us=n]\n"
     "-netdev bridge,id=str[,br=bridge][,helper=helper]\n"
     "-netdev l2tpv3,id=str,src=srcaddr,dst=dstaddr[,srcport=srcport][,dstport=dstport]\n"
     "         [,rxsession=rxsession],txsession=txsession[,ipv6=on|off][,udp=on|off]\n"
     "         [,cookie64=on|off][,counter][,pincounter][,txcookie=txcookie]\n"
     "         [,rxcookie=rxcookie][,offset=offset]\n"
     "-netdev socket,id=str[,fd=h][,listen=[host]:port][,connect=host:port]\n"
     "-netdev socket,id=str[,fd=h][,mcast=maddr:port[,localaddr=addr]]\n"
     "-netdev socket,id=str[,fd=h][,udp=host:port][,localaddr=host:port]\n"
     "-netdev stream,id=str[,server=on|off],addr.type=inet,addr.host=host,addr.port=port"
     "[,to=maxport][,numeric=on|off][,keep-alive=on|off][,mptcp=on|off]"
     "[,addr.ipv4=on|off][,addr.ipv6=on|off][,reconnect=seconds]\n"
     "-netdev stream,id=str[,server=on|off],addr.type=unix,addr.path=path"
     "[,abstract=on|off][,tight=on|off][,reconnect=seconds]\n"
     "-netdev stream,id=str[,server=on|off],addr.type=fd,addr.str=file-descriptor"
     "[,reconnect=seconds]\n"
     "-netdev dgram,id=str,remote.type=inet,remote.host=maddr,remote.port=port"
     "[,local.type=inet,local.host=addr]\n"
     "-netdev dgram,id=str,local.type=inet,local.host=addr,local.port=port"
     "[,remote.type=inet,remote.host=addr,remote.port=port]\n"
     "-netdev dgram,id=str,local.type=unix,local.path=path[,remote.type=unix,remote.path=path]\n"
     "-netdev dgram,id=str,local.type=fd,local.str=file-descriptor\n"
     "-netdev vde,id=str[,sock=socketpath][,port=n][,group=groupname][,mode=octalmode]\n"
     "-netdev netmap,id=str,ifname=name[,devname=nmname]\n"
     "-netdev af-xdp,id=str,ifname=name[,mode=native|skb][,force-copy=on|off]\n"
     "         [,queues=n][,start-queue=m][,inhibit=on|off][,sock-fds=x:y:...:z]\n"
     "-netdev vhost-user,id=str,chardev=dev[,vhostforce=on|off]\n"
     "-netdev vhost-vdpa,id=str[,vhostdev=/path/to/dev][,vhostfd=h]\n"
     "-netdev vmnet-host,id=str[,isolated=on|off][,net-uuid=uuid]\n"
     "         [,start-address=addr,end-address=addr,subnet-mask=mask]\n"
     "-netdev vmnet-shared,id=str[,isolated=on|off][,nat66-prefix=addr]\n"
     "         [,start-address=addr,end-address=addr,subnet-mask=mask]\n"
     "-netdev vmnet-bridged,id=str,ifname=name[,isolated=on|off]\n"
     "-netdev hubport,id=str,hubid=n[,netdev=nd]",
     "create the host side of a network connection, named 'str', for a NIC:\n"
     "user is a NAT with DHCP, DNS and TFTP in user space; tap and bridge use a\n"
     "host TAP device; socket, stream and dgram tunnel frames over sockets;\n"
     "hubport joins a legacy hub"},
    {"nic", ARG, G::Network,
     "-nic [tap|bridge|user|l2tpv3|vde|netmap|af-xdp|vhost-user|vmnet-host|vmnet-shared"
     "|vmnet-bridged|socket][,option][,...][mac=macaddr]\n"
     "-nic none",
     "add the board's default NIC (or model=) wired to a new backend of that type;\n"
     "'-nic none' leaves the guest without network (the default is user)"},
    {"net", ARG, G::Network,
     "-net nic[,macaddr=mac][,model=type][,name=str][,addr=str][,vectors=v]\n"
     "-net [user|tap|bridge|vde|netmap|af-xdp|vmnet-host|vmnet-shared|vmnet-bridged"
     "|socket][,option][,option][,...]",
     "legacy form: NICs and backends meet on hub 0 (prefer -nic or -netdev)"},

    // ------------------------------------------------------------ Chardev
    {"chardev", ARG, G::Chardev,
     "-chardev help\n"
     "-chardev null,id=id[,mux=on|off][,logfile=PATH][,logappend=on|off]\n"
     "-chardev socket,id=id[,host=host],port=port[,to=to][,ipv4=on|off][,ipv6=on|off]"
     "[,nodelay=on|off]\n"
     "         [,server=on|off][,wait=on|off][,telnet=on|off][,websocket=on|off]"
     "[,reconnect=seconds][,mux=on|off]\n"
     "         [,logfile=PATH][,logappend=on|off][,tls-creds=ID][,tls-authz=ID] (tcp)\n"
     "-chardev socket,id=id,path=path[,server=on|off][,wait=on|off][,telnet=on|off]"
     "[,websocket=on|off][,reconnect=seconds]\n"
     "         [,mux=on|off][,logfile=PATH][,logappend=on|off][,abstract=on|off]"
     "[,tight=on|off] (unix)\n"
     "-chardev udp,id=id[,host=host],port=port[,localaddr=localaddr]\n"
     "         [,localport=localport][,ipv4=on|off][,ipv6=on|off][,mux=on|off]\n"
     "         [,logfile=PATH][,logappend=on|off]\n"
     "-chardev msmouse,id=id[,mux=on|off][,logfile=PATH][,logappend=on|off]\n"
     "-chardev vc,id=id[[,width=width][,height=height]][[,cols=cols][,rows=rows]]\n"
     "         [,mux=on|off][,logfile=PATH][,logappend=on|off]\n"
     "-chardev ringbuf,id=id[,size=size][,logfile=PATH][,logappend=on|off]\n"
     "-chardev file,id=id,path=path[,input-path=input-file][,mux=on|off][,logfile=PATH]"
     "[,logappend=on|off]\n"
     "-chardev pipe,id=id,path=path[,mux=on|off][,logfile=PATH][,logappend=on|off]\n"
     "-chardev pty,id=id[,mux=on|off][,logfile=PATH][,logappend=on|off]\n"
     "-chardev stdio,id=id[,mux=on|off][,signal=on|off][,logfile=PATH][,logappend=on|off]\n"
     "-chardev braille,id=id[,mux=on|off][,logfile=PATH][,logappend=on|off]\n"
     "-chardev serial,id=id,path=path[,mux=on|off][,logfile=PATH][,logappend=on|off]\n"
     "-chardev parallel,id=id,path=path[,mux=on|off][,logfile=PATH][,logappend=on|off]\n"
     "-chardev spicevmc,id=id,name=name[,debug=debug][,logfile=PATH][,logappend=on|off]\n"
     "-chardev spiceport,id=id,name=name[,debug=debug][,logfile=PATH][,logappend=on|off]",
     "create the character device 'id' that serial ports, consoles and monitors\n"
     "connect to; mux=on lets several front ends share it"},

    // ------------------------------------------------------------ TPM
    {"tpmdev", ARG, G::Tpm,
     "-tpmdev passthrough,id=id[,path=path][,cancel-path=path]\n"
     "-tpmdev emulator,id=id,chardev=dev",
     "create a TPM backend: the host's TPM at path= (default /dev/tpm0), or an\n"
     "external emulator reached through chardev 'dev'"},

    // ------------------------------------------------------------ Boot
    {"bios", ARG, G::Boot, "-bios file", "firmware image to run at reset"},
    {"pflash", ARG, G::Boot, "-pflash file", "image for the next parallel flash chip"},
    {"kernel", ARG, G::Boot, "-kernel bzImage", "load 'bzImage' as the kernel to boot"},
    {"append", ARG, G::Boot, "-append cmdline", "kernel command line"},
    {"initrd", ARG, G::Boot, "-initrd file", "load 'file' as the initial RAM disk"},
    {"dtb", ARG, G::Boot, "-dtb file", "hand 'file' to the guest as its device tree"},

    // ------------------------------------------------------------ Debug/Expert
    {"compat", ARG, G::Debug,
     "-compat [deprecated-input=accept|reject|crash][,deprecated-output=accept|hide]\n"
     "-compat [unstable-input=accept|reject|crash][,unstable-output=accept|hide]",
     "how management interfaces treat deprecated and unstable commands"},
    {"fw_cfg", ARG, G::Debug,
     "-fw_cfg [name=]<name>,file=<file>\n"
     "-fw_cfg [name=]<name>,string=<str>",
     "pass a named blob to the firmware, read from a file or given inline"},
    {"serial", ARG, G::Debug, "-serial dev", "connect the next serial port to character device 'dev'"},
    {"parallel", ARG, G::Debug, "-parallel dev",
     "connect the next parallel port to character device 'dev'"},
    {"monitor", ARG, G::Debug, "-monitor dev", "run the human monitor on character device 'dev'"},
    {"qmp", ARG, G::Debug, "-qmp dev", "run the machine protocol (QMP) monitor on 'dev'"},
    {"qmp-pretty", ARG, G::Debug, "-qmp-pretty dev", "as -qmp, with indented JSON replies"},
    {"mon", ARG, G::Debug, "-mon [chardev=]name[,mode=readline|control][,pretty[=on|off]]",
     "attach a monitor of the given mode to an existing chardev"},
    {"debugcon", ARG, G::Debug, "-debugcon dev",
     "connect the debug console port to character device 'dev'"},
    {"pidfile", ARG, G::Debug, "-pidfile file", "store the process id in 'file'"},
    {"preconfig", NOARG, G::Debug, "--preconfig",
     "stop before the machine is built so the monitor can configure it"},
    {"S", NOARG, G::Debug, "-S", "do not start the vCPUs until told to ('c' in the monitor)"},
    {"overcommit", ARG, G::Debug, "-overcommit [mem-lock=on|off][cpu-pm=on|off]",
     "host resource hints: lock guest memory, let the guest manage CPU power"},
    {"gdb", ARG, G::Debug, "-gdb dev",
     "wait for a gdb connection on 'dev'; the guest starts anyway unless -S"},
    {"s", NOARG, G::Debug, "-s", "same as -gdb tcp::1234"},
    {"d", ARG, G::Debug, "-d item1,...", "log the listed items ('-d help' lists them)"},
    {"D", ARG, G::Debug, "-D logfile", "write the log to 'logfile' instead of stderr"},
    {"dfilter", ARG, G::Debug, "-dfilter range,..",
     "log only for guest addresses in the ranges (start+size, start-end)"},
    {"seed", ARG, G::Debug, "-seed number", "fix the seed of the internal random generator"},
    {"L", ARG, G::Debug, "-L path", "look for firmware and keymaps in 'path' first"},
    {"enable-kvm", NOARG, G::Debug, "-enable-kvm", "run on KVM (same as -accel kvm)"},
    {"xen-domid", ARG, G::Debug, "-xen-domid id", "Xen guest domain id"},
    {"xen-attach", NOARG, G::Debug, "-xen-attach", "attach to an existing Xen domain"},
    {"xen-domid-restrict", NOARG, G::Debug, "-xen-domid-restrict",
     "allow Xen operations on the given domain only"},
    {"no-reboot", NOARG, G::Debug, "-no-reboot", "exit when the guest reboots"},
    {"no-shutdown", NOARG, G::Debug, "-no-shutdown",
     "pause instead of exiting when the guest powers off"},
    {"action", ARG, G::Debug,
     "-action reboot=reset|shutdown\n"
     "-action shutdown=poweroff|pause\n"
     "-action panic=pause|shutdown|exit-failure|none\n"
     "-action watchdog=reset|shutdown|poweroff|inject-nmi|pause|debug|none",
     "what happens on guest reboot (default reset), power-off (poweroff),\n"
     "panic (shutdown) and watchdog expiry (reset)"},
    {"loadvm", ARG, G::Debug, "-loadvm [tag|id]", "start from the saved snapshot 'tag'"},
    {"daemonize", NOARG, G::Debug, "-daemonize", "go to the background once set up"},
    {"option-rom", ARG, G::Debug, "-option-rom rom", "load 'rom' as an option ROM"},
    {"rtc", ARG, G::Debug,
     "-rtc [base=utc|localtime|<datetime>][,clock=host|rt|vm][,driftfix=none|slew]",
     "start value and time source of the real-time clock"},
    {"icount", ARG, G::Debug,
     "-icount [shift=N|auto][,align=on|off][,sleep=on|off]"
     "[,rr=record|replay,rrfile=<filename>[,rrsnapshot=<snapshot>]]",
     "derive guest time from executed instructions (2^N ns each): runs become\n"
     "deterministic; rr= records or replays a run"},
    {"watchdog-action", ARG, G::Debug,
     "-watchdog-action reset|shutdown|poweroff|inject-nmi|pause|debug|none",
     "what happens when the watchdog expires (default reset)"},
    {"echr", ARG, G::Debug, "-echr chr", "escape key for the multiplexed terminal (default ctrl-a)"},
    {"incoming", ARG, G::Debug,
     "-incoming tcp:[host]:port[,to=maxport][,ipv4=on|off][,ipv6=on|off]\n"
     "-incoming rdma:host:port[,ipv4=on|off][,ipv6=on|off]\n"
     "-incoming unix:socketpath\n"
     "-incoming fd:fd\n"
     "-incoming file:filename[,offset=offset]\n"
     "-incoming exec:cmdline\n"
     "-incoming defer",
     "receive the machine state from a migration source at that address;\n"
     "'defer' waits for the address from the monitor"},
    {"only-migratable", NOARG, G::Debug, "-only-migratable", "refuse devices that cannot migrate"},
    {"nodefaults", NOARG, G::Debug, "-nodefaults", "create no default devices"},
    {"runas", ARG, G::Debug, "-runas user",
     "switch to 'user' (or numeric uid:gid) before the guest starts"},
    {"prom-env", ARG, G::Debug, "-prom-env variable=value", "set an OpenBIOS NVRAM variable"},
    {"semihosting", NOARG, G::Debug, "-semihosting",
     "let the guest use the host through semihosting calls"},
    {"semihosting-config", ARG, G::Debug,
     "-semihosting-config [enable=on|off][,target=native|gdb|auto][,chardev=id]"
     "[,userspace=on|off][,arg=str[,...]]",
     "semihosting settings: where calls go, console chardev, guest arguments"},
    {"old-param", NOARG, G::Debug, "-old-param", "pass kernel parameters the old way (ARM)"},
    {"sandbox", ARG, G::Debug,
     "-sandbox on[,obsolete=allow|deny][,elevateprivileges=allow|deny|children]\n"
     "          [,spawn=allow|deny][,resourcecontrol=allow|deny]",
     "restrict the system calls the emulator may make (seccomp; default off)"},
    {"readconfig", ARG, G::Debug, "-readconfig <file>", "read options from a config file"},
    {"no-user-config", NOARG, G::Debug, "-no-user-config",
     "skip the user's default config files"},
    {"trace", ARG, G::Debug, "-trace [[enable=]<pattern>][,events=<file>][,file=<file>]",
     "enable trace events matching the pattern or listed in a file"},
    {"plugin", ARG, G::Debug, "-plugin [file=]<file>[,<argname>=<argvalue>]",
     "load an instrumentation plugin with its arguments"},
    {"qtest", ARG, G::Debug, "-qtest dev", "serve the qtest test protocol on 'dev' (testing only)"},
    {"qtest-log", ARG, G::Debug, "-qtest-log file", "log qtest traffic to 'file' (testing only)"},
    {"run-with", ARG, G::Debug, "-run-with [async-teardown=on|off][,chroot=dir]",
     "process life cycle: tear down in the background, chroot before starting"},
    {"msg", ARG, G::Debug, "-msg [timestamp[=on|off]][,guest-name=[on|off]]",
     "prefix error messages with a timestamp and/or the guest name"},
    {"dump-vmstate", ARG, G::Debug, "-dump-vmstate <file>",
     "write the migration state descriptions as JSON to 'file' and exit"},
    {"enable-sync-profile", NOARG, G::Debug, "-enable-sync-profile",
     "collect lock contention statistics"},
    {"perfmap", NOARG, G::Debug, "-perfmap", "write /tmp/perf-<pid>.map for perf"},
    {"jitdump", NOARG, G::Debug, "-jitdump", "write jit-<pid>.dump for perf"},

    // ------------------------------------------------------------ Object
    {"object", ARG, G::Object, "-object TYPENAME[,PROP1=VALUE1,...]",
     "create an object (a secret, memory backend, RNG, ...) with these\n"
     "properties; id= is required; a JSON object is accepted as well"},
});

}  // namespace

std::span<const OptionDef> option_table() { return kOptions; }

std::string_view group_heading(OptionGroup g) {
    static constexpr std::array<std::string_view, 10> headings = {
        "Standard options:",
        "Block device options:",
        "USB convenience options:",
        "Display options:",
        "Network options:",
        "Character device options:",
        "TPM device options:",
        "Boot Image or Kernel specific:",
        "Debug/Expert options:",
        "Generic object creation:",
    };
    return headings[static_cast<size_t>(g)];
}

}  // namespace tessera
