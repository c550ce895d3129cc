// UI text in English and Chinese; the choice is kept in localStorage.
// Elements carry data-i18n="key" (text) or data-i18n-title="key" (tooltip).
'use strict';

const TEXT = {
  en: {
    lang: '中文', token: 'Token', connect: 'Join', leave: 'Leave', pasteToken: 'Paste a token, or open this page with #token=…',
    room: 'Room', you: 'You', status: 'Status', participants: 'Participants', streams: 'Streams',
    camera: 'Camera', microphone: 'Microphone', second: 'Second source', screen: 'Screen / window',
    simulcast: 'Several qualities (simulcast)',
    simulcastHelp: 'Send the camera in three qualities, so each expert gets the best one their own link carries; this browser sends only the ones its uplink holds',
    none: 'None', publish: 'Publish', stop: 'Stop', expert: 'Expert', clinicTitle: 'Clinic workstation',
    expertTitle: 'Expert console', operatorTitle: 'Broadcast operator', link: 'Link quality',
    bitrate: 'Bitrate', loss: 'Loss', rtt: 'RTT', good: 'good', fair: 'fair', poor: 'poor',
    talkback: 'Talk back', stopTalk: 'Stop talking', enlarge: 'Click a stream to enlarge',
    noStreams: 'No streams yet', recording: 'Recording', notRecording: 'Not recording',
    startRec: 'Start recording', stopRec: 'Stop recording', recordRoom: 'Record all', stopRoom: 'Stop all',
    mute: 'Mute', unmute: 'Unmute', muteAudio: 'Mute audio', muteVideo: 'Mute video', remove: 'Remove',
    program: 'Program', setProgram: 'Put on program', allRooms: 'All rooms', recordings: 'Recordings',
    download: 'Play', viewers: 'viewers', joined: 'joined', reconnecting: 'reconnecting…',
    removed: 'You were removed from the room', replaced: 'Opened elsewhere', localPreview: 'Local preview',
    audioOnly: 'audio only', role: 'Role', kbps: 'kbit/s', ms: 'ms', published: 'publishing',
    share: 'Share', unshare: 'Stop sharing',
    uplink: 'Uplink', resent: 'resent', repaired: 'repaired', audio: 'audio',
    uplinkHelp: 'The publisher\'s uplink as the relay receives it, over the last 2 s: loss before → after repair (retransmissions), bitrate, round trip',
    connection: 'Connection', relayed: 'TURN', otherSessions: 'WHIP/WHEP',
    connectionHelp: 'How each of the participant\'s media connections reaches the relay (UDP, TCP, or through TURN) and its round trip; for a viewer of a simulcast stream, the layer it is sent and why not a better one',
    layer_high: 'top layer', layer_medium: 'middle layer', layer_low: 'low layer',
    why_cap: 'its cap', why_downlink: 'its downlink',
  },
  zh: {
    lang: 'English', token: '令牌', connect: '加入', leave: '离开', pasteToken: '粘贴令牌，或用 #token=… 打开本页',
    room: '房间', you: '本人', status: '状态', participants: '参会者', streams: '视频流',
    camera: '摄像头', microphone: '麦克风', second: '第二信号源', screen: '屏幕 / 窗口',
    simulcast: '多路画质（simulcast）',
    simulcastHelp: '以三种画质发送摄像头画面，每位专家收到其网络所能承载的最佳画质；本浏览器只发送上行带宽容得下的画质',
    none: '无', publish: '发布', stop: '停止', expert: '专家', clinicTitle: '乡镇卫生院工作站',
    expertTitle: '专家会诊台', operatorTitle: '直播导播台', link: '链路质量',
    bitrate: '码率', loss: '丢包', rtt: '往返时延', good: '良好', fair: '一般', poor: '较差',
    talkback: '对讲', stopTalk: '停止对讲', enlarge: '点击视频流放大',
    noStreams: '暂无视频流', recording: '录制中', notRecording: '未录制',
    startRec: '开始录制', stopRec: '停止录制', recordRoom: '全部录制', stopRoom: '全部停止',
    mute: '静音', unmute: '取消静音', muteAudio: '关闭声音', muteVideo: '关闭画面', remove: '移出',
    program: '主画面', setProgram: '设为主画面', allRooms: '全部房间', recordings: '录像',
    download: '播放', viewers: '观众', joined: '已加入', reconnecting: '正在重连…',
    removed: '您已被移出房间', replaced: '已在其他位置打开', localPreview: '本地预览',
    audioOnly: '仅音频', role: '角色', kbps: 'kbit/s', ms: '毫秒', published: '发布中',
    share: '共享', unshare: '停止共享',
    uplink: '上行', resent: '重传', repaired: '已修复', audio: '音频',
    uplinkHelp: '服务器收到的发布端上行链路（最近 2 秒）：修复前 → 修复后丢包率（重传）、码率、往返时延',
    connection: '连接', relayed: 'TURN 中继', otherSessions: 'WHIP/WHEP',
    connectionHelp: '该参会者每条媒体连接到服务器的方式（UDP、TCP 或经 TURN 中继）及往返时延；观看多层（simulcast）视频流时，所收到的层及未收到更高层的原因',
    layer_high: '最高层', layer_medium: '中间层', layer_low: '最低层',
    why_cap: '自设上限', why_downlink: '下行带宽',
  },
};

let LANG = localStorage.getItem('medrelay-lang') || ((navigator.language || '').startsWith('zh') ? 'zh' : 'en');

function t(key) { return (TEXT[LANG] && TEXT[LANG][key]) || TEXT.en[key] || key; }

function applyLang() {
  document.documentElement.lang = LANG === 'zh' ? 'zh-CN' : 'en';
  document.querySelectorAll('[data-i18n]').forEach((el) => { el.textContent = t(el.dataset.i18n); });
  document.querySelectorAll('[data-i18n-title]').forEach((el) => { el.title = t(el.dataset.i18nTitle); });
  document.querySelectorAll('[data-i18n-placeholder]').forEach((el) => { el.placeholder = t(el.dataset.i18nPlaceholder); });
  document.dispatchEvent(new Event('langchange'));
}

function setLang(lang) {
  LANG = TEXT[lang] ? lang : 'en';
  localStorage.setItem('medrelay-lang', LANG);
  applyLang();
}

function toggleLang() { setLang(LANG === 'en' ? 'zh' : 'en'); }

window.t = t;
window.applyLang = applyLang;
window.setLang = setLang;
window.toggleLang = toggleLang;
document.addEventListener('DOMContentLoaded', applyLang);
